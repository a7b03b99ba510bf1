#pragma once
// The small languages of `meshwork table create`:
//   --schema    'id long not null, ts timestamptz, amount decimal(12,2), tags list<string>,
//                attrs map<string, long>, address struct<city: string, zip: int not null>'
//   --partition 'day(ts), bucket(16, id), truncate(4, name), region'
// Errors give the 1-based character position and what was expected there.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "iceberg/partition_spec.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

/// A schema with fresh field ids: top-level columns get 1..N in order, then nested fields ids
/// continue depth-first (the way Iceberg's reference implementation assigns them).
Result<Schema> ParseColumnList(std::string_view text);
/// The inverse, for `meshwork table schema`: "id long not null, ts timestamptz".
std::string ToColumnList(const Schema& schema);

/// A spec with field ids from 1000 and default names ("ts_day", "id_bucket", "name_trunc").
Result<PartitionSpec> ParsePartitionExpression(std::string_view text, const Schema& schema);
/// The inverse: "day(ts), bucket(16, id)".
std::string ToPartitionExpression(const PartitionSpec& spec, const Schema& schema);

/// A sort order (order id 1) from "ts desc, id asc nulls last": columns with an optional
/// direction (asc by default) and null order (nulls first for asc, nulls last for desc, as in
/// Spark). An empty text is the unsorted order (id 0).
Result<SortOrder> ParseSortOrder(std::string_view text, const Schema& schema);
/// The inverse: "ts desc nulls last, id asc nulls first", or "(unsorted)".
std::string ToSortExpression(const SortOrder& order, const Schema& schema);

}  // namespace meshwork::iceberg
