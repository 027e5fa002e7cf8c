// XML input: the repeating record elements are cut out of the byte stream by a small tag
// scanner (never the whole document in memory); each element's text is parsed by
// pugixml on a worker, so a malformed element fails alone and the rest goes on.
#include "io/record_source.hpp"
#include "io/xml_record.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace statenet::detail {

namespace {

constexpr std::size_t read_block = 1 << 20;

bool ends_name(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>'; }

/// "items/item" -> {"items", "item"}.
std::vector<std::string> path_of(const std::string& element) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    while (from <= element.size()) {
        const std::size_t slash = element.find('/', from);
        const std::size_t end = slash == std::string::npos ? element.size() : slash;
        if (end > from) parts.push_back(element.substr(from, end - from));
        if (slash == std::string::npos) break;
        from = slash + 1;
    }
    return parts;
}

class XmlSource final : public RecordSource {
public:
    XmlSource(std::unique_ptr<ByteInput> input, const std::string& element)
        : input_(std::move(input)), path_(path_of(element)), buffer_(read_block) {}

    bool next(RawRecord& record) override {
        while (next_element(record)) {
            // A resumed run scans again from the start (the ancestors decide what matches)
            // and hands out only the records after the checkpoint.
            if (record.end > resume_after_) return true;
        }
        return false;
    }
    void resume(std::uint64_t position, std::uint64_t) override { resume_after_ = position; }
    std::uint64_t progress_position() const noexcept override { return input_->raw_position(); }
    std::uint64_t progress_size() const noexcept override { return input_->raw_size(); }
    bool positions_are_file_offsets() const noexcept override { return !input_->compressed(); }
    void before_read(std::function<void()> hook) override { before_read_ = std::move(hook); }

private:
    /// The next record element, outside which everything but the open elements' names is skipped.
    bool next_element(RawRecord& record) {
        for (;;) {
            int c = get();
            while (c >= 0 && c != '<') c = get();
            if (c < 0) return false;
            const std::uint64_t line = line_;
            std::string tag = "<";
            const Markup kind = read_markup(tag);
            if (kind == Markup::end) {
                const std::string name = name_of(tag, 2);
                // Close up to the matching element; a stray end tag is left to the records' parser.
                for (std::size_t i = open_.size(); i-- > 0;) {
                    if (open_[i] == name) {
                        open_.resize(i);
                        break;
                    }
                }
            } else if (kind == Markup::start || kind == Markup::empty) {
                std::string name = name_of(tag, 1);
                if (matches(name)) {
                    record.line = line;
                    record.parser = &xml_record_parser();
                    record.value.reset();
                    record.error.reset();
                    record.text = std::move(tag);
                    if (kind == Markup::start) read_element(name, record);
                    record.end = position_;
                    record.end_line = line_;
                    return true;
                }
                if (kind == Markup::start) open_.push_back(std::move(name));
            }
        }
    }

    enum class Markup { start, empty, end, other };

    /// The rest of a markup item that began with '<' (already in `text`), appended to `text`.
    Markup read_markup(std::string& text) {
        const int c = get();
        if (c < 0) return Markup::other;
        text += static_cast<char>(c);
        if (c == '?') {
            copy_until(text, "?>");
            return Markup::other;
        }
        if (c == '!') {
            const int d = peek();
            if (d == '-') copy_until(text, "-->");       // <!-- a comment -->
            else if (d == '[') copy_until(text, "]]>");  // <![CDATA[ ... ]]>
            else copy_declaration(text);                 // <!DOCTYPE ...>
            return Markup::other;
        }
        const bool end = c == '/';
        char quote = 0;
        for (int d = get(); d >= 0; d = get()) {
            text += static_cast<char>(d);
            if (quote) {
                if (d == quote) quote = 0;
            } else if (d == '"' || d == '\'') {
                quote = static_cast<char>(d);
            } else if (d == '>') {
                if (end) return Markup::end;
                return text.size() >= 2 && text[text.size() - 2] == '/' ? Markup::empty : Markup::start;
            }
        }
        return Markup::other;  // the input ends inside the tag
    }

    /// The rest of the record element `name` after its start tag, appended to the record's
    /// text. An end tag of `name` at the wrong depth still ends it (pugixml then says what
    /// is wrong), so a malformed record cannot swallow the ones after it.
    void read_element(const std::string& name, RawRecord& record) {
        std::string& text = record.text;
        int depth = 1;
        int nested = 0;  // elements of the record's own name open inside it
        for (;;) {
            int c = get();
            while (c >= 0 && c != '<') {
                text += static_cast<char>(c);
                c = get();
            }
            if (c < 0) {
                record.error = ErrorInfo{"InvalidXml", fmt::format("the input ends inside <{}>", name), ""};
                return;
            }
            text += '<';
            const std::size_t at = text.size() - 1;
            const Markup kind = read_markup(text);
            if (kind == Markup::start) {
                ++depth;
                if (name_of(std::string_view(text).substr(at), 1) == name) ++nested;
            }
            if (kind != Markup::end) continue;
            --depth;
            if (depth == 0) return;
            if (name_of(std::string_view(text).substr(at), 2) == name && nested-- == 0) return;
        }
    }

    /// A start or end tag's element name, after its first `skip` characters.
    static std::string name_of(std::string_view tag, std::size_t skip) {
        std::size_t end = skip;
        while (end < tag.size() && !ends_name(static_cast<unsigned char>(tag[end]))) ++end;
        return std::string(tag.substr(skip, end - skip));
    }

    /// True when an element `name` opened inside the open ones is a record.
    bool matches(const std::string& name) const {
        if (path_.empty()) return open_.size() == 1;  // the root's children
        if (name != path_.back() || open_.size() + 1 < path_.size()) return false;
        for (std::size_t i = 0; i + 1 < path_.size(); ++i)
            if (open_[open_.size() - (path_.size() - 1) + i] != path_[i]) return false;
        return true;
    }

    void copy_until(std::string& text, std::string_view terminator) {
        for (int c = get(); c >= 0; c = get()) {
            text += static_cast<char>(c);
            if (text.ends_with(terminator)) return;
        }
    }

    /// `<!DOCTYPE ...>`, whose internal subset in brackets may hold '>'.
    void copy_declaration(std::string& text) {
        int brackets = 0;
        for (int c = get(); c >= 0; c = get()) {
            text += static_cast<char>(c);
            if (c == '[') ++brackets;
            else if (c == ']') --brackets;
            else if (c == '>' && brackets <= 0) return;
        }
    }

    bool fill() {
        if (begin_ < end_) return true;
        if (before_read_ && input_->would_block()) before_read_();
        begin_ = 0;
        end_ = input_->read(buffer_.data(), buffer_.size());
        return end_ > 0;
    }

    int peek() { return fill() ? static_cast<unsigned char>(buffer_[begin_]) : -1; }

    int get() {
        if (!fill()) return -1;
        const char c = buffer_[begin_++];
        ++position_;
        if (c == '\n') ++line_;
        return static_cast<unsigned char>(c);
    }

    std::unique_ptr<ByteInput> input_;
    std::vector<std::string> path_;
    std::vector<std::string> open_;  // the elements open outside any record
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t position_ = 0;
    std::uint64_t line_ = 1;
    std::uint64_t resume_after_ = 0;
    std::function<void()> before_read_;
};

}  // namespace

std::unique_ptr<RecordSource> make_xml_source(std::unique_ptr<ByteInput> input, const std::string& element) {
    return std::make_unique<XmlSource>(std::move(input), element);
}

}  // namespace statenet::detail
