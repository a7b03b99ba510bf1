#pragma once
// `meshwork product ...` and `meshwork domain ...`: the self-serve path for domain teams, on the
// local mesh in --data-dir (the same pipeline the server runs).

#include "common/config.h"

namespace CLI {
class App;
}

namespace meshwork::cli {

struct ProductCommands;

ProductCommands* AddProductCommands(CLI::App& app);
bool ProductCommandParsed(const ProductCommands& commands);
int RunProductCommand(ProductCommands& commands, const config::Config& config);

}  // namespace meshwork::cli
