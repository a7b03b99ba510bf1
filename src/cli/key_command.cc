#include "cli/key_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/exit_codes.h"
#include "common/logging.h"
#include "governance/governance.h"

namespace meshwork::cli {
namespace {

Result<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IOError("cannot read the master key file {}", path)
        .WithHint("check the path and that meshwork may read it");
  }
  std::stringstream text;
  text << in.rdbuf();
  return governance::ParseMasterKey(text.str(), path);
}

}  // namespace

std::string DemoMasterKeyFile(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "demo-master.key").string();
}

Status ConfigureMasterKey(const config::Config& config, const std::string& data_dir,
                          governance::Governance& governance, bool warn_about_demo_key) {
  // Errors and fingerprints name where the key came from (MESHWORK_MASTER_KEY, a file:line).
  const auto origin = [&](const char* setting) {
    const config::SettingValue* value = config.Find(setting);
    return value != nullptr && !value->origin.empty() ? value->origin : std::string(setting);
  };
  auto text = config.GetString("master_key");
  if (text.ok() && !text->empty()) {
    MW_ASSIGN_OR_RETURN(std::string key, governance::ParseMasterKey(*text, origin("master_key")));
    governance.keys().SetMasterKey(std::move(key), origin("master_key"));
    return Status::OK();
  }
  auto file = config.GetString("master_key_file");
  if (file.ok() && !file->empty()) {
    MW_ASSIGN_OR_RETURN(std::string key, ReadKeyFile(*file));
    governance.keys().SetMasterKey(std::move(key), *file + " (" + origin("master_key_file") + ")");
    return Status::OK();
  }
  std::error_code error;
  const std::string demo = DemoMasterKeyFile(data_dir);
  if (std::filesystem::exists(demo, error)) {
    MW_ASSIGN_OR_RETURN(std::string key, ReadKeyFile(demo));
    const std::string note = fmt::format(
        "using the demo master key {} that `meshwork demo` generated: it lies next to the data "
        "it protects; a real mesh sets MESHWORK_MASTER_KEY or master_key_file",
        demo);
    if (warn_about_demo_key) {
      logging::Warn("{}", note);
    } else {
      logging::Debug("{}", note);
    }
    governance.keys().SetMasterKey(std::move(key), demo);
  }
  return Status::OK();
}

int RunKeyCommand(governance::Governance& governance, catalog::Catalog& catalog,
                  const catalog::Caller& caller, const KeyRequest& request) {
  // Keys are the council's: listing them tells which domains hold encrypted data too.
  Status allowed =
      catalog.Authorize(caller, catalog::Privilege::kManageMesh, catalog::Securable::Mesh());
  if (!allowed.ok()) return ReportError(allowed);
  governance::KeyStore& keys = governance.keys();
  const auto print = [&](const std::vector<governance::KeyInfo>& infos) {
    if (request.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& info : infos) {
        nlohmann::json versions = nlohmann::json::array();
        for (const auto& version : info.versions)
          versions.push_back({{"id", version.id},
                              {"created-at-ms", version.created_at_ms},
                              {"master-key-fingerprint", version.master_fingerprint}});
        out.push_back({{"scope", info.scope},
                       {"mode", governance::EncryptionModeName(info.mode)},
                       {"current-version", info.current_version},
                       {"versions", versions}});
      }
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    if (infos.empty()) std::printf("no data keys yet (they are created by the first write)\n");
    for (const auto& info : infos) {
      std::printf("%-28s %-13s current v%lld of %zu, wrapped by master key %s\n",
                  info.scope.c_str(),
                  std::string(governance::EncryptionModeName(info.mode)).c_str(),
                  static_cast<long long>(info.current_version), info.versions.size(),
                  info.versions.empty() ? "-" : info.versions.back().master_fingerprint.c_str());
    }
  };
  if (request.action == "list") {
    auto infos = keys.List();
    if (!infos.ok()) return ReportError(infos.error());
    print(*infos);
    return kExitOk;
  }
  if (request.action == "rotate") {
    if (!request.domain.empty() && !request.rule.empty()) {
      return ReportError(Status::InvalidArgument("give --domain or --rule, not both"), kExitUsage);
    }
    const std::string pattern = !request.domain.empty() ? "dom." + request.domain
                                : !request.rule.empty() ? "det." + request.rule
                                                        : "";
    auto rotated = keys.Rotate(caller.actor(), pattern);
    if (!rotated.ok()) return ReportError(rotated.error());
    if (rotated->empty()) {
      return ReportError(
          Status::NotFound("no data key {} to rotate", pattern.empty() ? "at all" : pattern)
              .WithHint("`meshwork key list` shows the keys; a key exists once a deploy wrote "
                        "encrypted values with it"));
    }
    if (!request.json) {
      std::printf(
          "rotated %zu key%s: new writes use the new version, values written before stay "
          "readable with theirs\n",
          rotated->size(), rotated->size() == 1 ? "" : "s");
    }
    print(*rotated);
    return kExitOk;
  }
  if (request.action == "rewrap") {
    auto next = ReadKeyFile(request.new_master_key_file);
    if (!next.ok()) return ReportError(next.error(), kExitUsage);
    auto count = keys.Rewrap(caller.actor(), *next);
    if (!count.ok()) return ReportError(count.error());
    std::printf(
        "re-wrapped %lld key versions under the master key with fingerprint %s; no data file "
        "changed. Configure it (MESHWORK_MASTER_KEY_FILE=%s) before meshwork starts again, and "
        "restart running servers now: they still hold the old one\n",
        static_cast<long long>(*count), governance::MasterKeyFingerprint(*next).c_str(),
        request.new_master_key_file.c_str());
    return kExitOk;
  }
  return ReportError(Status::InvalidArgument("unknown key action '{}'", request.action),
                     kExitUsage);
}

}  // namespace meshwork::cli
