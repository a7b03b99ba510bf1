// The meshwork command: the composition root that parses the command line, loads configuration and
// picks the real backends for each command. Exit codes: 0 ok, 1 a check or operation failed,
// 2 usage error (DESIGN §4).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <string_view>

#include "cli/access_commands.h"
#include "cli/doctor.h"
#include "cli/exit_codes.h"
#include "cli/product_command.h"
#include "cli/serve_command.h"
#include "cli/settings.h"
#include "cli/table_command.h"
#include "cli/version.h"
#include "common/config.h"
#include "common/logging.h"
#include "engine/database.h"

namespace meshwork::cli {
namespace {

std::string VersionText() {
  return fmt::format("meshwork {}\nduckdb {} ({})", MESHWORK_VERSION, engine::LibraryVersion(),
                     engine::LibraryPath());
}

struct GlobalOptions {
  std::string config_file;
  std::string data_dir;
  std::string log_level;
  std::string log_format;
};

// Maps the global flags that were given onto their config keys, so that they form the top layer.
config::LoadOptions MakeLoadOptions(const CLI::App& app, const GlobalOptions& globals) {
  config::LoadOptions options;
  options.file = globals.config_file;
  if (options.file.empty()) {
    if (const char* from_env = std::getenv("MESHWORK_CONFIG")) options.file = from_env;
  }
  auto flag = [&](const char* name, const std::string& value, const char* key) {
    if (app.count(name) > 0) options.flags[key] = {value, name};
  };
  flag("--data-dir", globals.data_dir, "data_dir");
  flag("--log-level", globals.log_level, "log.level");
  flag("--log-format", globals.log_format, "log.format");
  return options;
}

Status InitLogging(const config::Config& config) {
  logging::Options options;
  MW_ASSIGN_OR_RETURN(const std::string level, config.GetString("log.level"));
  MW_ASSIGN_OR_RETURN(options.level, logging::ParseLevel(level));
  MW_ASSIGN_OR_RETURN(const std::string format, config.GetString("log.format"));
  MW_ASSIGN_OR_RETURN(options.format, logging::ParseFormat(format));
  if (const auto* file = config.Find("log.file")) options.file = file->value;
  return logging::Init(options);
}

// The first argument that is neither an option nor an option's value: the command name.
std::string FirstPositional(int argc, char** argv) {
  static const std::set<std::string_view> kOptionsWithValues = {"--config", "--data-dir",
                                                                "--log-level", "--log-format"};
  for (int index = 1; index < argc; ++index) {
    const std::string_view argument = argv[index];
    if (kOptionsWithValues.contains(argument)) {
      ++index;
      continue;
    }
    if (!argument.starts_with("-")) return std::string(argument);
  }
  return "";
}

int Run(int argc, char** argv) {
  CLI::App app{"meshwork: a self-serve data mesh platform in one binary", "meshwork"};
  app.set_version_flag("--version", VersionText, "Print the meshwork and DuckDB versions and exit");
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions globals;
  app.add_option("--config", globals.config_file, "YAML config file (or MESHWORK_CONFIG)");
  app.add_option("--data-dir", globals.data_dir, "State folder (default ./.meshwork)");
  app.add_option("--log-level", globals.log_level, "trace|debug|info|warn|error|off");
  app.add_option("--log-format", globals.log_format, "text|json");

  bool doctor_json = false;
  CLI::App* doctor = app.add_subcommand("doctor", "Check the environment: DuckDB, data dir, tools");
  doctor->add_flag("--json", doctor_json, "Machine-readable report");

  TableCommand* table = AddTableCommand(app);
  ServeCommand* serve = AddServeCommand(app);
  AccessCommands* access = AddAccessCommands(app);
  ProductCommands* products = AddProductCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    // CLI11 reports an unknown command as "a subcommand is required"; name it instead.
    if (const std::string command = FirstPositional(argc, argv);
        !command.empty() &&
        app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == command; }).empty()) {
      std::string known;
      for (const CLI::App* sub : app.get_subcommands({})) {
        known += (known.empty() ? "" : ", ") + sub->get_name();
      }
      std::cerr << "meshwork: unknown command '" << command << "' (commands: " << known
                << ")\nRun 'meshwork --help' for usage.\n";
      return kExitUsage;
    }
    std::cerr << "meshwork: " << error.what() << "\nRun 'meshwork --help' for usage.\n";
    return kExitUsage;
  }

  auto config = config::Config::Load(MeshworkSettings(), MakeLoadOptions(app, globals));
  if (!config.ok()) return ReportError(config.error(), kExitUsage);
  if (Status logging_ready = InitLogging(*config); !logging_ready.ok()) {
    return ReportError(logging_ready, logging_ready.code() == StatusCode::kInvalidArgument
                                          ? kExitUsage
                                          : kExitFailed);
  }

  if (doctor->parsed()) return RunDoctor(*config, doctor_json);
  if (TableCommandParsed(*table)) return RunTableCommand(*table, *config);
  if (ServeCommandParsed(*serve)) return RunServeCommand(*serve, *config);
  if (AccessCommandParsed(*access)) return RunAccessCommand(*access);
  if (ProductCommandParsed(*products)) return RunProductCommand(*products, *config);
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace
}  // namespace meshwork::cli

int main(int argc, char** argv) {
  return meshwork::cli::Run(argc, argv);
}
