#include "storage/storage_profiles.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/yaml_reader.h"

namespace meshwork::storage {

Status ValidateStorageProfileName(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || name[0] == '_' || name[0] == '-' ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return Status::InvalidArgument("'{}' is not a storage profile name", name)
        .WithHint(
            "use 1-64 lower-case letters, digits, '_' or '-', starting with a letter or digit");
  }
  return Status::OK();
}

Result<std::map<std::string, S3Config>> ParseStorageProfiles(std::string_view text,
                                                             const std::string& file) {
  MW_ASSIGN_OR_RETURN(YAML::Node document, yaml::LoadDocument(text, file));
  const yaml::Reader reader(file);
  std::map<std::string, S3Config> profiles;
  if (document.IsNull()) return profiles;
  MW_RETURN_IF_ERROR(reader.CheckMap(document, "the storage profiles file", {"profiles"}));
  const YAML::Node listed = document["profiles"];
  if (!listed.IsDefined() || listed.IsNull()) return profiles;
  if (!listed.IsMap()) {
    return reader.Error(listed, "'profiles' must map profile names to settings, not {}",
                        yaml::NodeKind(listed));
  }
  for (auto it = listed.begin(); it != listed.end(); ++it) {
    MW_ASSIGN_OR_RETURN(std::string name, reader.String(it->first, "a profile name"));
    Status valid = ValidateStorageProfileName(name);
    if (!valid.ok()) return std::move(valid).WithLocation(reader.At(it->first));
    const YAML::Node node = it->second;
    const std::string what = fmt::format("storage profile '{}'", name);
    MW_RETURN_IF_ERROR(reader.CheckMap(
        node, what,
        {"endpoint", "region", "path_style", "access_key_id", "secret_access_key", "session_token",
         "aws_profile", "credentials_file", "conditional_writes"}));
    S3Config config;
    MW_ASSIGN_OR_RETURN(config.endpoint, reader.OptionalString(node, "endpoint"));
    MW_ASSIGN_OR_RETURN(config.region, reader.OptionalString(node, "region"));
    if (node["path_style"].IsDefined()) {
      MW_ASSIGN_OR_RETURN(bool path_style, reader.OptionalBool(node, "path_style", false));
      config.addressing =
          path_style ? S3Config::Addressing::kPath : S3Config::Addressing::kVirtualHosted;
    }
    MW_ASSIGN_OR_RETURN(config.credentials.access_key_id,
                        reader.OptionalString(node, "access_key_id"));
    MW_ASSIGN_OR_RETURN(config.credentials.secret_access_key,
                        reader.OptionalString(node, "secret_access_key"));
    MW_ASSIGN_OR_RETURN(config.credentials.session_token,
                        reader.OptionalString(node, "session_token"));
    if (config.credentials.access_key_id.empty() != config.credentials.secret_access_key.empty()) {
      return reader.Error(node, "{} has one of access_key_id and secret_access_key", what)
          .WithHint(
              "give both, or neither and use aws_profile (a profile of the AWS credentials "
              "file)");
    }
    MW_ASSIGN_OR_RETURN(config.profile, reader.OptionalString(node, "aws_profile"));
    MW_ASSIGN_OR_RETURN(config.credentials_file, reader.OptionalString(node, "credentials_file"));
    MW_ASSIGN_OR_RETURN(bool conditional, reader.OptionalBool(node, "conditional_writes", true));
    config.create_only =
        conditional ? S3Config::CreateOnly::kConditionalPut : S3Config::CreateOnly::kHeadThenPut;
    profiles.emplace(std::move(name), std::move(config));
  }
  return profiles;
}

Result<std::map<std::string, S3Config>> LoadStorageProfiles(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int error = errno;
    Status status = error == ENOENT
                        ? Status::NotFound("storage profiles file {} does not exist", file)
                        : Status::IOError("cannot read storage profiles file {}: {}", file,
                                          std::strerror(error));
    return std::move(status).WithResource(file).WithHint(
        "fix storage.profiles_file (MESHWORK_STORAGE_PROFILES_FILE), or create the file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseStorageProfiles(text.str(), file);
}

S3Config StoreThroughProfile(const S3Config& transfer, const S3Config& profile,
                             const std::string& location) {
  S3Config config = transfer;
  config.warehouse = location;
  config.endpoint = profile.endpoint;
  config.region = profile.region;
  config.addressing = profile.addressing;
  config.credentials = profile.credentials;
  config.profile = profile.profile;
  config.credentials_file = profile.credentials_file;
  config.create_only = profile.create_only;
  return config;
}

}  // namespace meshwork::storage
