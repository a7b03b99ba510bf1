#pragma once
// Named storage profiles: how to reach an object store other than the warehouse's own (endpoint,
// region, addressing, credentials). A domain created with `--storage-profile NAME` records only
// the name in its namespace properties; the keys stay in the operator's profiles file (or in the
// AWS credentials file it points to), so the catalog's database never holds a secret.
//
//   # storage-profiles.yaml (setting storage.profiles_file)
//   profiles:
//     finance:
//       endpoint: https://s3.eu-central-1.amazonaws.com
//       region: eu-central-1
//       aws_profile: finance            # a profile of ~/.aws/credentials (or credentials_file)
//     lab:
//       endpoint: http://minio.lab:9000
//       path_style: true
//       conditional_writes: false
//       access_key_id: LAB
//       secret_access_key: ...          # allowed; prefer aws_profile and a file only meshwork
//       reads

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/s3_file_io.h"

namespace meshwork::storage {

/// Profile names: 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit.
Status ValidateStorageProfileName(std::string_view name);

/// Parses a profiles file (`file` names it in errors, which carry file:line:column). Each
/// profile is an S3Config without a warehouse; unset fields keep S3Config's defaults (and so
/// fall back to the AWS_* environment like the warehouse's own settings). invalid_argument for
/// unknown keys (with the closest known one), bad names, an access key without its secret.
Result<std::map<std::string, S3Config>> ParseStorageProfiles(std::string_view text,
                                                             const std::string& file);
/// The settings of a store reached through `profile` at `location`: the profile's connection
/// (endpoint, region, addressing, credentials, create-only mode) with `transfer`'s parts,
/// retries and timeouts (the warehouse's own settings).
S3Config StoreThroughProfile(const S3Config& transfer, const S3Config& profile,
                             const std::string& location);

/// Reads and parses the file; not_found / io_error name it.
Result<std::map<std::string, S3Config>> LoadStorageProfiles(const std::string& file);

}  // namespace meshwork::storage
