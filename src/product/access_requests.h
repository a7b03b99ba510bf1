#pragma once
// Access requests: a consumer asks for READ_DATA on a product's ports with a reason; whoever may
// grant on those tables (the owning domain's owner role, MANAGE_GRANTS) approves — the grant goes
// to the requester's personal role `user_<principal>` — or denies with a note.
//
// Authorization is the catalog's: creating needs to see the product; deciding needs
// MANAGE_GRANTS on every table of the request, and the grant itself is made as the approver. The
// personal role is created and assigned by the service (it holds nothing until an owner grants).
// Requests are metastore documents (collection "access_requests"), shared by every server.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"
#include "product/service.h"

namespace meshwork::product {

struct AccessRequest {
  std::string id;
  std::string requester;  // principal
  std::string product;    // domain.name
  std::vector<std::string> tables;
  std::string reason;
  std::string state;  // pending | approved | denied
  std::string role;   // the requester's personal role, granted READ_DATA on approval
  std::string decided_by;
  std::string note;
  int64_t created_at_ms = 0;
  int64_t decided_at_ms = 0;
  /// Filled by List: whether the caller may decide it.
  bool can_decide = false;
};

class AccessRequests {
 public:
  AccessRequests(catalog::Catalog& catalog, ProductService& products);

  Result<AccessRequest> Create(const catalog::Caller& caller, const std::string& domain,
                               const std::string& name, const std::string& reason);
  /// The caller's own requests and those it may decide, newest first.
  Result<std::vector<AccessRequest>> List(const catalog::Caller& caller);
  Result<AccessRequest> Decide(const catalog::Caller& caller, const std::string& id, bool approve,
                               const std::string& note);

 private:
  Status MayDecide(const catalog::Caller& caller, const AccessRequest& request);

  catalog::Catalog& catalog_;
  ProductService& products_;
};

nlohmann::json AccessRequestToJson(const AccessRequest& request);

}  // namespace meshwork::product
