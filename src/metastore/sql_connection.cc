#include "metastore/sql_connection.h"

#include <charconv>

namespace meshwork::metastore {

const std::string& SqlRow::Text(size_t column) const {
  static const std::string kEmpty;
  const auto& value = values.at(column);
  return value ? *value : kEmpty;
}

int64_t SqlRow::Int(size_t column) const {
  const std::string& text = Text(column);
  int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return number;
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  // URI form: scheme://user:password@host...
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t at = out.find('@', scheme + 3);
    const size_t colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // Query or keyword form: password=secret
  for (size_t at = out.find("password="); at != std::string::npos;
       at = out.find("password=", at + 1)) {
    const size_t start = at + 9;
    size_t end = out.find_first_of("& ", start);
    if (end == std::string::npos) end = out.size();
    out.replace(start, end - start, "***");
  }
  return out;
}

}  // namespace meshwork::metastore
