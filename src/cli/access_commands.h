#pragma once
// `meshwork principal|role|grant|whoami`: access management through a running server's mesh API
// (--server URL, credentials from MESHWORK_CLIENT_ID / MESHWORK_CLIENT_SECRET).

namespace CLI {
class App;
}

namespace meshwork::cli {

struct AccessCommands;

AccessCommands* AddAccessCommands(CLI::App& app);
bool AccessCommandParsed(const AccessCommands& commands);
int RunAccessCommand(AccessCommands& commands);

}  // namespace meshwork::cli
