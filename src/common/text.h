#pragma once
// Small text helpers shared by the parsers of user files (config, data product specs, policies).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace meshwork::text {

/// ASCII lower case (SQL and spec names).
std::string ToLower(std::string text);

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` if it is a near miss (distance < `max_distance`), else "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates,
                         size_t max_distance = 4);

}  // namespace meshwork::text
