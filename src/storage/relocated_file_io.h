#pragma once
// Read-only FileIO for a table that was copied away from where it was written. Iceberg metadata
// records absolute locations ("s3a://bucket/tables/orders/data/x.parquet"); a table copied to a
// local folder keeps them. This FileIO maps every path under the recorded table location onto
// the folder the table now lives in, and refuses everything else, so a foreign table's metadata
// can never make us read outside its folder.

#include <memory>
#include <string>
#include <vector>

#include "storage/local_file_io.h"

namespace meshwork::storage {

class RelocatedFileIO final : public FileIO {
 public:
  /// `recorded_location` is the table's location as its metadata records it; `table_folder` the
  /// local folder that now holds the table (its metadata/ and data/ folders).
  static Result<std::unique_ptr<RelocatedFileIO>> Make(std::string recorded_location,
                                                       const std::string& table_folder);

  std::string_view Scheme() const override { return "file"; }
  std::string Describe() const override;

  Result<std::string> ReadFile(std::string_view path) override;
  Result<std::string> ReadRange(std::string_view path, uint64_t offset, uint64_t length) override;
  Status WriteFileAtomic(std::string_view path, std::string_view contents,
                         WriteOptions options = {}) override;
  Result<std::vector<FileInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view path) override;
  Result<bool> Exists(std::string_view path) override;
  Result<uint64_t> Size(std::string_view path) override;
  Result<std::string> LocalPath(std::string_view path) override;

  /// The path inside the table folder that a recorded path names. Paths under the recorded
  /// location lose that prefix; other paths are taken relative to the table folder (and are
  /// refused if they leave it).
  Result<std::string> Map(std::string_view path) const;

 private:
  RelocatedFileIO(std::vector<std::string> prefixes, std::unique_ptr<LocalFileIO> folder)
      : prefixes_(std::move(prefixes)), folder_(std::move(folder)) {}
  std::vector<std::string> prefixes_;
  std::unique_ptr<LocalFileIO> folder_;
};

}  // namespace meshwork::storage
