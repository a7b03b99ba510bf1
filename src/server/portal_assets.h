#pragma once
// The portal's files (web/), compiled into the binary by cmake/EmbedFiles.cmake.

#include <cstddef>
#include <span>

namespace meshwork::server {

struct EmbeddedFile {
  const char* path;  // URL path: "/index.html", "/assets/main.js", "/assets/vendor/preact.mjs"
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

std::span<const EmbeddedFile> PortalAssets();

}  // namespace meshwork::server
