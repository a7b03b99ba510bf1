#include "iceberg/static_table.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/relocated_file_io.h"

namespace meshwork::iceberg {
namespace {

namespace fs = std::filesystem;

// "v12.metadata.json" → 12, "00012-<uuid>.metadata.json" → 12, "<uuid>.metadata.json" → -1.
int64_t VersionOf(const std::string& name) {
  if (!name.ends_with(".metadata.json")) return -1;
  std::string_view digits = name;
  if (digits.starts_with('v')) digits.remove_prefix(1);
  int64_t version = -1;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (error != std::errc() || (*end != '.' && *end != '-')) return -1;
  return version;
}

Result<fs::path> LatestMetadataFile(const fs::path& folder) {
  const fs::path metadata = folder / "metadata";
  std::error_code error;
  if (!fs::is_directory(metadata, error)) {
    return Status::NotFound("{} is not an Iceberg table folder: it has no metadata/ folder",
                            folder.string())
        .WithHint("pass the folder that holds metadata/ and data/, or a .metadata.json file");
  }
  std::ifstream hint(metadata / "version-hint.text");
  std::string text;
  if (hint && std::getline(hint, text)) {
    while (!text.empty() && (text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    int64_t version = -1;
    auto [end, parse_error] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (parse_error == std::errc() && end == text.data() + text.size()) {
      const fs::path named = metadata / fmt::format("v{}.metadata.json", version);
      if (fs::is_regular_file(named, error)) return named;
    }
  }
  fs::path best;
  int64_t best_version = -1;
  for (const auto& entry : fs::directory_iterator(metadata, error)) {
    const int64_t version = VersionOf(entry.path().filename().string());
    if (version > best_version) {
      best_version = version;
      best = entry.path();
    }
  }
  if (best_version < 0) {
    return Status::NotFound("{} has no metadata file (*.metadata.json)", metadata.string())
        .WithHint("pass a .metadata.json file explicitly");
  }
  return best;
}

}  // namespace

bool LooksLikeTablePath(std::string_view argument) {
  return argument.find('/') != std::string_view::npos || argument.ends_with(".json");
}

Result<StaticTable> OpenStaticTable(const std::string& path) {
  std::error_code error;
  fs::path metadata_file = fs::absolute(path, error);
  if (fs::is_directory(metadata_file, error)) {
    MW_ASSIGN_OR_RETURN(metadata_file, LatestMetadataFile(metadata_file));
  } else if (!fs::is_regular_file(metadata_file, error)) {
    return Status::NotFound("{} does not exist", path)
        .WithHint("pass a table folder or one of its .metadata.json files");
  }
  const fs::path folder = metadata_file.parent_path().parent_path();
  std::ifstream in(metadata_file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    return Status::IOError("cannot read {}", metadata_file.string())
        .WithHint("check that the file is readable");
  }
  MW_ASSIGN_OR_RETURN(TableMetadata metadata,
                      TableMetadataFromJson(buffer.str(), metadata_file.string()));
  MW_ASSIGN_OR_RETURN(auto io, storage::RelocatedFileIO::Make(metadata.location, folder.string()));
  StaticTable result;
  result.io = std::move(io);
  result.table.identifier.name = folder.filename().string();
  result.table.metadata_location = metadata_file.string();
  result.table.metadata = std::move(metadata);
  return result;
}

}  // namespace meshwork::iceberg
