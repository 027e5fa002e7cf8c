// One XML element's text as a record (pugixml): attributes and child text become fields.
#pragma once

#include "io/record_source.hpp"

namespace statenet::detail {

/// Parses an element's text, `<item id="1"><name>Tea</name></item>`, on a worker into
/// `{ id = "1", name = "Tea" }`: attributes and leaf children (no attributes, no child
/// elements) become string fields, other children objects, repeated children lists, and
/// an element's own text beside fields goes to `text`. A malformed element fails with
/// InvalidXml and what pugixml found.
const RecordParser& xml_record_parser();

}  // namespace statenet::detail
