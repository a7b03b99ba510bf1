// DuckDB errors → Status values with a code, an SQLSTATE and an actionable hint.

#include <array>
#include <string>
#include <utility>

#include "engine/internal.h"

namespace meshwork::engine {
namespace {

struct ErrorClass {
  duckdb_error_type type;
  std::string_view prefix;  // how DuckDB starts the message, e.g. "Parser Error: "
};

// DuckDB's message prefixes, for the paths (prepare, pending) that report only a message.
constexpr std::array kErrorClasses = {
    ErrorClass{DUCKDB_ERROR_PARSER, "Parser Error: "},
    ErrorClass{DUCKDB_ERROR_SYNTAX, "Syntax Error: "},
    ErrorClass{DUCKDB_ERROR_CATALOG, "Catalog Error: "},
    ErrorClass{DUCKDB_ERROR_BINDER, "Binder Error: "},
    ErrorClass{DUCKDB_ERROR_PERMISSION, "Permission Error: "},
    ErrorClass{DUCKDB_ERROR_IO, "IO Error: "},
    ErrorClass{DUCKDB_ERROR_INTERRUPT, "INTERRUPT Error: "},
    ErrorClass{DUCKDB_ERROR_CONSTRAINT, "Constraint Error: "},
    ErrorClass{DUCKDB_ERROR_CONVERSION, "Conversion Error: "},
    ErrorClass{DUCKDB_ERROR_OUT_OF_RANGE, "Out of Range Error: "},
    ErrorClass{DUCKDB_ERROR_INVALID_INPUT, "Invalid Input Error: "},
    ErrorClass{DUCKDB_ERROR_TRANSACTION, "TransactionContext Error: "},
    ErrorClass{DUCKDB_ERROR_NOT_IMPLEMENTED, "Not implemented Error: "},
    ErrorClass{DUCKDB_ERROR_OUT_OF_MEMORY, "Out of Memory Error: "},
    ErrorClass{DUCKDB_ERROR_DIVIDE_BY_ZERO, "Divide by Zero Error: "},
    ErrorClass{DUCKDB_ERROR_INTERNAL, "INTERNAL Error: "},
    ErrorClass{DUCKDB_ERROR_FATAL, "FATAL Error: "},
    ErrorClass{DUCKDB_ERROR_PARAMETER_NOT_RESOLVED, "Parameter Not Resolved Error: "},
    ErrorClass{DUCKDB_ERROR_PARAMETER_NOT_ALLOWED, "Parameter Not Allowed Error: "},
    ErrorClass{DUCKDB_ERROR_MISSING_EXTENSION, "Missing Extension Error: "},
    ErrorClass{DUCKDB_ERROR_DEPENDENCY, "Dependency Error: "},
};

struct Mapping {
  StatusCode code;
  std::string_view sqlstate;
  std::string_view hint;
};

Mapping MapErrorType(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX:
      return {StatusCode::kInvalidArgument, "42601", "fix the SQL syntax near the marked position"};
    case DUCKDB_ERROR_CATALOG:
      return {StatusCode::kNotFound, "42P01", "check the table, column or function name"};
    case DUCKDB_ERROR_BINDER:
      return {StatusCode::kInvalidArgument, "42703", "check column names and argument types"};
    case DUCKDB_ERROR_PERMISSION:
      return {StatusCode::kPermissionDenied, "42501",
              "this engine may only read and write files inside its allowed directories"};
    case DUCKDB_ERROR_IO:
      return {StatusCode::kIOError, "58030", "check that the file exists and is readable"};
    case DUCKDB_ERROR_INTERRUPT:
      return {StatusCode::kCancelled, "57014", ""};
    case DUCKDB_ERROR_CONSTRAINT:
      return {StatusCode::kConflict, "23505", ""};
    case DUCKDB_ERROR_TRANSACTION:
      return {StatusCode::kConflict, "40001", "retry the transaction"};
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_INVALID_TYPE:
      return {StatusCode::kInvalidArgument, "22P02", "CAST the value to the expected type"};
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DECIMAL:
      return {StatusCode::kInvalidArgument, "22003", ""};
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
      return {StatusCode::kInvalidArgument, "22012", ""};
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
      return {StatusCode::kInvalidArgument, "22023", ""};
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD:
      return {StatusCode::kNotImplemented, "0A000", ""};
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return {StatusCode::kUnavailable, "53200",
              "the query needs more memory than memory_limit allows; raise it, set a "
              "temp_directory to spill to, or make the query more selective"};
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL:
      return {StatusCode::kInternal, "XX000", ""};
    default:
      return {StatusCode::kInvalidArgument, "42000", ""};
  }
}

}  // namespace

std::string QuoteSqlString(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

std::string AbbreviateSql(std::string_view sql, size_t limit) {
  std::string flat;
  bool space = false;
  for (char c : sql) {
    const bool is_space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (is_space) {
      space = !flat.empty();
      continue;
    }
    if (space) flat += ' ';
    space = false;
    flat += c;
  }
  if (flat.size() > limit) flat = flat.substr(0, limit - 3) + "...";
  return flat;
}

Status ErrorToStatus(duckdb_error_type type, std::string_view message, std::string_view sql) {
  if (type == DUCKDB_ERROR_INVALID) {
    for (const ErrorClass& error_class : kErrorClasses) {
      if (message.starts_with(error_class.prefix)) {
        type = error_class.type;
        break;
      }
    }
  }
  const Mapping mapping = MapErrorType(type);
  std::string text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  Status status(mapping.code, std::move(text));
  status = std::move(status).WithSqlState(std::string(mapping.sqlstate));
  if (!mapping.hint.empty()) status = std::move(status).WithHint(std::string(mapping.hint));
  if (!sql.empty()) status = std::move(status).WithContext("in SQL: " + AbbreviateSql(sql));
  return status;
}

}  // namespace meshwork::engine
