#include "server/http.h"

namespace meshwork::server {

std::optional<std::string> HttpRequest::Header(std::string_view lower_name) const {
  auto found = headers.find(std::string(lower_name));
  if (found == headers.end()) return std::nullopt;
  return found->second;
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  auto found = query.find(std::string(name));
  if (found == query.end()) return std::nullopt;
  return found->second;
}

std::string HttpRequest::Capture(std::string_view name) const {
  auto found = captures.find(std::string(name));
  return found == captures.end() ? std::string() : found->second;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

void Router::Add(std::string method, std::string path_template, std::string route,
                 Handler handler) {
  entries_.push_back(
      {std::move(method), SplitPath(path_template), std::move(route), std::move(handler)});
}

Router::Match Router::Find(HttpRequest& request) const {
  const std::vector<std::string> segments = SplitPath(request.path);
  Match match;
  const Entry* get_fallback = nullptr;
  std::map<std::string, std::string> get_captures;
  for (const Entry& entry : entries_) {
    if (entry.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> captures;
    bool matched = true;
    for (size_t i = 0; i < segments.size() && matched; ++i) {
      const std::string& pattern = entry.segments[i];
      if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}') {
        captures[pattern.substr(1, pattern.size() - 2)] = segments[i];
      } else {
        matched = pattern == segments[i];
      }
    }
    if (!matched) continue;
    match.path_known = true;
    if (entry.method == request.method) {
      request.captures = std::move(captures);
      match.handler = &entry.handler;
      match.route = entry.route;
      return match;
    }
    if (request.method == "HEAD" && entry.method == "GET" && get_fallback == nullptr) {
      get_fallback = &entry;
      get_captures = std::move(captures);
    }
  }
  if (get_fallback != nullptr) {
    request.captures = std::move(get_captures);
    match.handler = &get_fallback->handler;
    match.route = get_fallback->route;
  }
  return match;
}

}  // namespace meshwork::server
