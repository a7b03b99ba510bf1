#pragma once
// Reading a table straight from its folder or one of its metadata files, with no catalog: the
// way to inspect a table another engine wrote (Spark, Trino, pyiceberg) or an older version of
// one. Read-only: the table's recorded location is mapped onto the folder it now lives in.

#include <memory>
#include <string>

#include "common/result.h"
#include "iceberg/warehouse.h"
#include "storage/file_io.h"

namespace meshwork::iceberg {

struct StaticTable {
  std::unique_ptr<storage::FileIO> io;
  LoadedTable table;
};

/// `path` is a metadata file (".../metadata/v3.metadata.json", "...00001-<uuid>.metadata.json")
/// or a table folder (the one holding metadata/), whose latest metadata file is chosen: the one
/// version-hint.text names if present, else the highest version number.
Result<StaticTable> OpenStaticTable(const std::string& path);

/// Whether a command-line table argument names a path rather than "namespace.table".
bool LooksLikeTablePath(std::string_view argument);

}  // namespace meshwork::iceberg
