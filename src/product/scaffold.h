#pragma once
// `meshwork product init`: a product folder that deploys as it is — spec, transform SQL, a tiny
// example dataset, a README and a CI workflow (validate on pull requests, deploy on main).

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace meshwork::product {

/// The scaffold's files of domain.name, as (path relative to the product folder, content).
Result<std::vector<std::pair<std::string, std::string>>> ScaffoldFiles(const std::string& domain,
                                                                       const std::string& name);

/// Writes the scaffold of domain.name into `folder` (refusing a non-empty folder unless
/// `force`); returns the files written, relative to it.
Result<std::vector<std::string>> WriteScaffold(const std::string& folder, const std::string& domain,
                                               const std::string& name, bool force);

}  // namespace meshwork::product
