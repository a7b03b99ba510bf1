#include "cli/access_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/server_client.h"

namespace meshwork::cli {

struct AccessCommands {
  std::string server = "http://127.0.0.1:8181";
  bool json = false;
  std::string name, type = "user", description, role, principal, privilege, on;
  CLI::App *principal_create = nullptr, *principal_list = nullptr, *principal_rotate = nullptr,
           *principal_drop = nullptr, *role_create = nullptr, *role_list = nullptr,
           *role_drop = nullptr, *role_assign = nullptr, *role_unassign = nullptr,
           *grant_add = nullptr, *grant_revoke = nullptr, *grant_list = nullptr, *whoami = nullptr;
};

namespace {

CLI::App* Sub(CLI::App* parent, const char* name, const char* help, AccessCommands& options) {
  CLI::App* command = parent->add_subcommand(name, help);
  command->add_option("--server", options.server,
                      "meshwork server (default http://127.0.0.1:8181)");
  command->add_flag("--json", options.json, "Machine-readable output");
  return command;
}

// "table:finance.revenue", "namespace:finance", "mesh"
Result<nlohmann::json> ParseSecurable(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string type = text.substr(0, colon);
  const std::string name = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (type != "mesh" && (type.empty() || name.empty())) {
    return Status::InvalidArgument("--on '{}' is not TYPE:NAME", text)
        .WithHint("for example --on mesh, --on namespace:finance, --on table:finance.revenue");
  }
  return nlohmann::json({{"type", type}, {"name", name}});
}

void PrintCredentials(const nlohmann::json& body, bool json) {
  if (json) {
    std::printf("%s\n", body.dump().c_str());
    return;
  }
  std::printf("principal      %s\nclient id      %s\nclient secret  %s   (shown once: keep it)\n",
              body.value("name", "").c_str(), body.value("client-id", "").c_str(),
              body.value("client-secret", "").c_str());
}

int Run(AccessCommands& o) {
  auto client = ServerClient::FromEnvironment(o.server);
  if (!client.ok()) return ReportError(client.error(), kExitUsage);
  auto send = [&](const std::string& method, const std::string& path,
                  const nlohmann::json& body = nullptr) {
    return client->Send(method, path, body.is_null() ? "" : body.dump());
  };
  auto done = [&](const Result<ServerReply>& reply, const std::string& what) {
    if (!reply.ok()) return ReportError(reply.error());
    if (o.json) {
      std::printf("{\"ok\":true}\n");
    } else {
      std::printf("%s\n", what.c_str());
    }
    return kExitOk;
  };
  if (o.principal_create->parsed()) {
    auto reply = send("POST", "/api/v1/principals", {{"name", o.name}, {"type", o.type}});
    if (!reply.ok()) return ReportError(reply.error());
    PrintCredentials(nlohmann::json::parse(reply->body), o.json);
    return kExitOk;
  }
  if (o.principal_rotate->parsed()) {
    auto reply = send("POST", "/api/v1/principals/" + o.name + "/rotate");
    if (!reply.ok()) return ReportError(reply.error());
    PrintCredentials(nlohmann::json::parse(reply->body), o.json);
    return kExitOk;
  }
  if (o.principal_drop->parsed()) {
    return done(send("DELETE", "/api/v1/principals/" + o.name), "dropped principal " + o.name);
  }
  if (o.role_create->parsed()) {
    return done(send("POST", "/api/v1/roles", {{"name", o.name}, {"description", o.description}}),
                "created role " + o.name);
  }
  if (o.role_drop->parsed()) {
    return done(send("DELETE", "/api/v1/roles/" + o.name), "dropped role " + o.name);
  }
  if (o.role_assign->parsed()) {
    return done(send("POST", "/api/v1/principals/" + o.principal + "/roles", {{"role", o.role}}),
                "assigned role " + o.role + " to " + o.principal);
  }
  if (o.role_unassign->parsed()) {
    return done(send("DELETE", "/api/v1/principals/" + o.principal + "/roles/" + o.role),
                "removed role " + o.role + " from " + o.principal);
  }
  if (o.grant_add->parsed() || o.grant_revoke->parsed()) {
    auto securable = ParseSecurable(o.on);
    if (!securable.ok()) return ReportError(securable.error(), kExitUsage);
    const bool add = o.grant_add->parsed();
    return done(send("POST", add ? "/api/v1/grants" : "/api/v1/grants/revoke",
                     {{"role", o.role}, {"privilege", o.privilege}, {"securable", *securable}}),
                std::string(add ? "granted " : "revoked ") + o.privilege + " on " + o.on +
                    (add ? " to " : " from ") + o.role);
  }
  // Listings.
  std::string path, key;
  if (o.principal_list->parsed()) path = "/api/v1/principals", key = "principals";
  if (o.role_list->parsed()) path = "/api/v1/roles", key = "roles";
  if (o.grant_list->parsed()) {
    path = "/api/v1/grants" + (o.role.empty() ? "" : "?role=" + o.role), key = "grants";
  }
  if (o.whoami->parsed()) path = "/api/v1/whoami";
  auto reply = send("GET", path);
  if (!reply.ok()) return ReportError(reply.error());
  const auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (o.json || key.empty()) {
    std::printf("%s\n", (key.empty() ? body : body[key]).dump(o.json ? -1 : 2).c_str());
    return kExitOk;
  }
  for (const auto& item : body[key]) {
    if (key == "principals") {
      std::printf("%-24s %-8s %s\n", item.value("name", "").c_str(), item.value("type", "").c_str(),
                  item.value("client-id", "").c_str());
    } else if (key == "roles") {
      std::printf("%-24s %s\n", item.value("name", "").c_str(),
                  item.value("description", "").c_str());
    } else {
      const auto& securable = item["securable"];
      std::printf("%-20s %-14s %s %s\n", item.value("role", "").c_str(),
                  item.value("privilege", "").c_str(), securable.value("type", "").c_str(),
                  securable.value("name", "").c_str());
    }
  }
  return kExitOk;
}

}  // namespace

AccessCommands* AddAccessCommands(CLI::App& app) {
  static AccessCommands o;
  CLI::App* principal =
      app.add_subcommand("principal", "Principals: who can sign in (needs a server)");
  principal->require_subcommand(1);
  o.principal_create = Sub(principal, "create", "Create a principal; prints its secret once", o);
  o.principal_create->add_option("name", o.name, "Principal name")->required();
  o.principal_create->add_option("--type", o.type, "user or service (default user)");
  o.principal_list = Sub(principal, "list", "List principals", o);
  o.principal_rotate = Sub(principal, "rotate", "New secret; older tokens stop working", o);
  o.principal_rotate->add_option("name", o.name, "Principal name")->required();
  o.principal_drop = Sub(principal, "drop", "Drop a principal", o);
  o.principal_drop->add_option("name", o.name, "Principal name")->required();

  CLI::App* role = app.add_subcommand("role", "Roles: sets of grants that principals hold");
  role->require_subcommand(1);
  o.role_create = Sub(role, "create", "Create a role", o);
  o.role_create->add_option("name", o.name, "Role name")->required();
  o.role_create->add_option("--description", o.description, "What the role is for");
  o.role_list = Sub(role, "list", "List roles", o);
  o.role_drop = Sub(role, "drop", "Drop a role and its grants", o);
  o.role_drop->add_option("name", o.name, "Role name")->required();
  o.role_assign = Sub(role, "assign", "Give a role to a principal", o);
  o.role_assign->add_option("role", o.role, "Role")->required();
  o.role_assign->add_option("principal", o.principal, "Principal")->required();
  o.role_unassign = Sub(role, "unassign", "Take a role from a principal", o);
  o.role_unassign->add_option("role", o.role, "Role")->required();
  o.role_unassign->add_option("principal", o.principal, "Principal")->required();

  CLI::App* grant = app.add_subcommand("grant", "Grants: privileges of roles on securables");
  grant->require_subcommand(1);
  for (CLI::App** command : {&o.grant_add, &o.grant_revoke}) {
    const bool add = command == &o.grant_add;
    *command = Sub(grant, add ? "add" : "revoke",
                   add ? "Grant a privilege to a role" : "Revoke a privilege from a role", o);
    (*command)->add_option("--role", o.role, "Role")->required();
    (*command)
        ->add_option("--privilege", o.privilege,
                     "MANAGE_MESH, MANAGE_GRANTS, CREATE_DOMAIN, CREATE_TABLE, "
                     "READ_METADATA, READ_DATA, WRITE_DATA, ALTER, DROP, UNMASK or "
                     "READ_AUDIT")
        ->required();
    (*command)
        ->add_option("--on", o.on,
                     "mesh, namespace:NAME, table:NS.NAME, view:NS.NAME or "
                     "classification:pii.email")
        ->required();
  }
  o.grant_list = Sub(grant, "list", "List grants", o);
  o.grant_list->add_option("--role", o.role, "Only this role's");

  o.whoami = Sub(&app, "whoami", "Who the client credentials are: roles and grants", o);
  return &o;
}

bool AccessCommandParsed(const AccessCommands& o) {
  for (const CLI::App* command :
       {o.principal_create, o.principal_list, o.principal_rotate, o.principal_drop, o.role_create,
        o.role_list, o.role_drop, o.role_assign, o.role_unassign, o.grant_add, o.grant_revoke,
        o.grant_list, o.whoami}) {
    if (command->parsed()) return true;
  }
  return false;
}

int RunAccessCommand(AccessCommands& commands) {
  return Run(commands);
}

}  // namespace meshwork::cli
