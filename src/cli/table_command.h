#pragma once
// `meshwork table ...`: low-level Iceberg operations on a warehouse folder, no server.

namespace CLI {
class App;
}
namespace meshwork::config {
class Config;
}

namespace meshwork::cli {

struct TableCommand;

/// Registers `table` and its subcommands on `app`; the returned object owns the parsed options.
TableCommand* AddTableCommand(CLI::App& app);
/// True when the user ran a `table` subcommand.
bool TableCommandParsed(const TableCommand& command);
/// Runs the parsed subcommand; returns the exit code.
/// `config` gives the object-store settings (s3.*, storage.profiles_file) of s3:// warehouses.
int RunTableCommand(TableCommand& command, const config::Config& config);

}  // namespace meshwork::cli
