#pragma once
// `meshwork table ...`: low-level Iceberg operations on a warehouse folder, no server.

namespace CLI {
class App;
}

namespace meshwork::cli {

struct TableCommand;

/// Registers `table` and its subcommands on `app`; the returned object owns the parsed options.
TableCommand* AddTableCommand(CLI::App& app);
/// True when the user ran a `table` subcommand.
bool TableCommandParsed(const TableCommand& command);
/// Runs the parsed subcommand; returns the exit code.
int RunTableCommand(TableCommand& command);

}  // namespace meshwork::cli
