#pragma once
// `meshwork key list|rotate|rewrap`: the data keys of encrypted columns (docs/governance.md,
// "Encryption at rest"), and where the master key that wraps them comes from.

#include <string>

#include "catalog/catalog.h"
#include "common/config.h"

namespace meshwork::governance {
class Governance;
}

namespace meshwork::cli {

struct KeyRequest {
  std::string action;               // list | rotate | rewrap
  std::string domain;               // rotate: only this domain's randomized key
  std::string rule;                 // rotate: only this encrypt rule's deterministic key
  std::string new_master_key_file;  // rewrap
  bool json = false;
};

int RunKeyCommand(governance::Governance& governance, catalog::Catalog& catalog,
                  const catalog::Caller& caller, const KeyRequest& request);

/// Gives `governance` the master key of the settings master_key / master_key_file (flags, the
/// config file, MESHWORK_MASTER_KEY / MESHWORK_MASTER_KEY_FILE). Without one, the key file
/// `meshwork demo` generated in `data_dir` is used (a demo convenience: a real mesh keeps the
/// master key away from the data), with a warning when `warn_about_demo_key` (the server). Without
/// either, encryption stays unavailable and says how to configure it when a policy needs it.
Status ConfigureMasterKey(const config::Config& config, const std::string& data_dir,
                          governance::Governance& governance, bool warn_about_demo_key);

/// The file `meshwork demo` keeps its generated master key in.
std::string DemoMasterKeyFile(const std::string& data_dir);

}  // namespace meshwork::cli
