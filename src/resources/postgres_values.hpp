// Values in and out of PostgreSQL (libpq text format): parameters with their types, typed
// columns, and a conninfo string fit to show in messages.
#pragma once

#include <statenet/value.hpp>

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace statenet::detail {

/// Bound parameters in libpq's text format. Integers go as int8, reals as float8,
/// booleans as bool; strings, arrays and objects (as JSON text) go untyped, so the
/// server reads them as whatever the column or operator expects (text, json, date, ...).
class PgParams {
public:
    explicit PgParams(const Value::Array& params);
    int count() const noexcept { return static_cast<int>(values_.size()); }
    const Oid* types() const noexcept { return types_.data(); }
    const char* const* values() const noexcept { return values_.data(); }

private:
    std::vector<std::string> text_;
    std::vector<Oid> types_;
    std::vector<const char*> values_;  // null for SQL NULL
};

/// Row `row`, column `column` of a result as a Value by the column's type: int2/4/8 and
/// oid as integers, float4/8 as numbers, numeric as an integer when it is whole and fits,
/// else a number, bool, json/jsonb decoded, NULL as null, everything else as its text.
Value pg_column_value(const PGresult* result, int row, int column);

/// The rows of a tuples result as an array of objects (column name -> value).
Value pg_rows(const PGresult* result);

/// libpq's message without its trailing newline ("" for null).
std::string pg_message(const char* message);

/// A failed result's error on one line: the server's message, its detail and SQLSTATE
/// (`duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already
/// exists.) [23505]`); the connection's message when there is no result.
std::string pg_error(const PGresult* result, PGconn* conn);

/// Keeps libpq from printing the server's notices ("relation already exists, skipping")
/// on stderr.
void pg_quiet_notices(PGconn* conn);

/// A conninfo string with its password (keyword or URI form) replaced by "***".
std::string redact_dsn(const std::string& dsn);

}  // namespace statenet::detail
