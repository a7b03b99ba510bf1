#pragma once
// `meshwork policy apply|list|show|diff|history|test|attributes`: the governance council's
// rules as code, on the local mesh in --data-dir.

#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace meshwork::governance {
class Governance;
}
namespace meshwork::product {
class ProductService;
}

namespace meshwork::cli {

struct PolicyRequest {
  std::string action;                    // apply | list | show | diff | history | test | attributes
  std::string folder;                    // apply, diff, test
  std::string name;                      // show: a policy; attributes: a principal
  std::vector<std::string> assignments;  // attributes: key=value
  bool json = false;
};

int RunPolicyCommand(catalog::Catalog& catalog, governance::Governance& governance,
                     product::ProductService& products, const catalog::Caller& caller,
                     const PolicyRequest& request);

}  // namespace meshwork::cli
