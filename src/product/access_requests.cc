#include "product/access_requests.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "common/uuid.h"

namespace meshwork::product {
namespace {

using nlohmann::json;

constexpr const char* kCollection = "access_requests";
constexpr size_t kMaxReason = 2000;

catalog::Securable TableSecurable(const std::string& table) {
  const size_t dot = table.rfind('.');
  return catalog::Securable::Table({table.substr(0, dot)}, table.substr(dot + 1));
}

json ToStored(const AccessRequest& request) {
  return {{"id", request.id},
          {"requester", request.requester},
          {"product", request.product},
          {"tables", request.tables},
          {"reason", request.reason},
          {"state", request.state},
          {"role", request.role},
          {"decided_by", request.decided_by},
          {"note", request.note},
          {"created_at_ms", request.created_at_ms},
          {"decided_at_ms", request.decided_at_ms}};
}

Result<AccessRequest> FromStored(const std::string& body) {
  const json value = json::parse(body, nullptr, false);
  if (!value.is_object()) return Status::Internal("a stored access request is not JSON");
  AccessRequest request;
  request.id = value.value("id", "");
  request.requester = value.value("requester", "");
  request.product = value.value("product", "");
  request.tables = value.value("tables", std::vector<std::string>{});
  request.reason = value.value("reason", "");
  request.state = value.value("state", "");
  request.role = value.value("role", "");
  request.decided_by = value.value("decided_by", "");
  request.note = value.value("note", "");
  request.created_at_ms = value.value("created_at_ms", int64_t{0});
  request.decided_at_ms = value.value("decided_at_ms", int64_t{0});
  return request;
}

}  // namespace

AccessRequests::AccessRequests(catalog::Catalog& catalog, ProductService& products)
    : catalog_(catalog), products_(products) {}

Result<AccessRequest> AccessRequests::Create(const catalog::Caller& caller,
                                             const std::string& domain, const std::string& name,
                                             const std::string& reason) {
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument("reason: say why you need the data")
        .WithHint("the owner decides on it, e.g. \"campaign ROI per segment for the Q3 review\"");
  }
  if (reason.size() > kMaxReason) {
    return Status::InvalidArgument("reason: {} characters, at most {}", reason.size(), kMaxReason);
  }
  // Seeing the product is what the catalog allows this caller; the request names its tables.
  MW_ASSIGN_OR_RETURN(ProductRecord record, products_.LoadProduct(caller, domain, name));
  AccessRequest request;
  request.requester = caller.principal;
  request.product = record.QualifiedName();
  for (const auto& port : record.ports)
    request.tables.push_back(port.table);
  if (request.tables.empty()) {
    return Status::FailedPrecondition("{} has no published ports to read", request.product);
  }
  bool readable = true;
  for (const auto& table : request.tables)
    readable =
        readable &&
        catalog_.Authorize(caller, catalog::Privilege::kReadData, TableSecurable(table)).ok();
  if (readable) {
    return Status::FailedPrecondition("{} may already read {}", caller.principal, request.product)
        .WithHint("run a query: nothing to request");
  }
  MW_ASSIGN_OR_RETURN(auto existing, catalog_.metastore().ListDocuments(kCollection));
  for (const auto& document : existing) {
    auto other = FromStored(document.body);
    if (other.ok() && other->requester == caller.principal && other->product == request.product &&
        other->state == "pending") {
      return Status::AlreadyExists("{} already asked for {} (request {}), still pending",
                                   caller.principal, request.product, other->id)
          .WithHint("wait for the owner's decision");
    }
  }
  // The requester's personal role: empty until an owner grants on it.
  request.role = "user_" + caller.principal;
  const catalog::Caller system{"meshwork", true, caller.request_id};
  Status created =
      catalog_.CreateRole(system, request.role, "Grants approved for " + caller.principal);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  Status assigned = catalog_.AssignRole(system, caller.principal, request.role);
  if (!assigned.ok() && assigned.code() != StatusCode::kAlreadyExists) return assigned;
  request.id = Uuid::V7().ToString();
  request.reason = reason;
  request.state = "pending";
  request.created_at_ms = time::NowMillis();
  MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
      caller.actor(),
      {{.collection = kCollection,
        .key = request.id,
        .body = ToStored(request).dump(),
        .expected_version = 0}},
      "requestAccess", "product", request.product,
      json({{"request", request.id}, {"tables", request.tables}}).dump()));
  return request;
}

Status AccessRequests::MayDecide(const catalog::Caller& caller, const AccessRequest& request) {
  for (const auto& table : request.tables) {
    MW_RETURN_IF_ERROR(
        catalog_.Authorize(caller, catalog::Privilege::kManageGrants, TableSecurable(table)));
  }
  return Status::OK();
}

Result<std::vector<AccessRequest>> AccessRequests::List(const catalog::Caller& caller) {
  MW_ASSIGN_OR_RETURN(auto documents, catalog_.metastore().ListDocuments(kCollection));
  std::vector<AccessRequest> out;
  for (const auto& document : documents) {
    auto request = FromStored(document.body);
    if (!request.ok()) continue;
    request->can_decide = MayDecide(caller, *request).ok();
    if (request->requester == caller.principal || request->can_decide) {
      out.push_back(std::move(*request));
    }
  }
  std::sort(out.begin(), out.end(), [](const AccessRequest& a, const AccessRequest& b) {
    return a.created_at_ms != b.created_at_ms ? a.created_at_ms > b.created_at_ms : a.id > b.id;
  });
  return out;
}

Result<AccessRequest> AccessRequests::Decide(const catalog::Caller& caller, const std::string& id,
                                             bool approve, const std::string& note) {
  MW_ASSIGN_OR_RETURN(auto document, catalog_.metastore().LoadDocument(kCollection, id));
  if (!document) {
    return Status::NotFound("no access request {}", id.substr(0, 64))
        .WithHint("list them with GET /api/v1/access-requests");
  }
  MW_ASSIGN_OR_RETURN(AccessRequest request, FromStored(document->body));
  MW_RETURN_IF_ERROR(MayDecide(caller, request));
  if (request.state != "pending") {
    return Status::FailedPrecondition("access request {} was already {} by {}", id, request.state,
                                      request.decided_by);
  }
  if (note.size() > kMaxReason) {
    return Status::InvalidArgument("note: {} characters, at most {}", note.size(), kMaxReason);
  }
  if (approve) {
    for (const auto& table : request.tables) {
      Status granted = catalog_.Grant(caller, request.role, catalog::Privilege::kReadData,
                                      TableSecurable(table));
      if (!granted.ok() && granted.code() != StatusCode::kAlreadyExists) return granted;
    }
  }
  request.state = approve ? "approved" : "denied";
  request.decided_by = caller.principal;
  request.note = note;
  request.decided_at_ms = time::NowMillis();
  MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
      caller.actor(),
      {{.collection = kCollection,
        .key = request.id,
        .body = ToStored(request).dump(),
        .expected_version = document->version}},
      approve ? "approveAccess" : "denyAccess", "product", request.product,
      json({{"request", request.id}, {"requester", request.requester}}).dump()));
  return request;
}

json AccessRequestToJson(const AccessRequest& request) {
  json out = ToStored(request);
  out["can_decide"] = request.can_decide;
  return out;
}

}  // namespace meshwork::product
