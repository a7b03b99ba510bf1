#pragma once
// Values on the PostgreSQL wire: the type OID a DuckDB column is announced as, and its text
// and binary encodings (PostgreSQL's, not DuckDB's: booleans are t/f, bytea is \x…, floats
// print Infinity/NaN, binary dates count from 2000-01-01).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/types.h"
#include "engine/vector.h"

namespace meshwork::server::pg {

/// The OID of the PostgreSQL type a column of `type` is sent as; text (25) for types without
/// a PostgreSQL counterpart (lists, structs, maps are sent as their text form).
int32_t TypeOid(const engine::Type& type);
/// RowDescription's type size: the fixed width, or -1.
int16_t TypeSize(int32_t oid);
/// RowDescription's type modifier (numeric's precision and scale), -1 if none.
int32_t TypeModifier(const engine::Type& type);
/// Whether the binary format is implemented for `type`.
bool HasBinaryFormat(const engine::Type& type);

/// Appends the PostgreSQL text form of a non-NULL value.
Status AppendText(const engine::Vector& vector, uint64_t row, std::string& out);
/// Appends the PostgreSQL binary form of a non-NULL value (HasBinaryFormat(type) must hold).
Status AppendBinary(const engine::Vector& vector, uint64_t row, std::string& out);

/// A parameter sent in binary for a parameter of type `oid`, as the text DuckDB casts from.
Result<std::string> BinaryParameterAsText(int32_t oid, std::string_view bytes);

}  // namespace meshwork::server::pg
