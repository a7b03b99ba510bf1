#include "product/scaffold.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "product/spec.h"

namespace meshwork::product {
namespace {

constexpr const char* kSpec =
    R"text(# The contract of {domain}.{name}: see docs/dataproduct-spec.md in meshwork's repository.
apiVersion: meshwork/v1
kind: DataProduct
domain: {domain}
name: {name}
version: 1.0.0
title: {title}
description: >-
  Orders per day and country, with revenue. Replace this with what the product offers, to whom,
  and how it is computed.
owner:
  team: {domain}
  email: {domain}@example.com
tags: [example]
inputs:
  - name: raw_orders
    file: data/orders.csv
transform:
  sql_file: transform.sql
ports:
  - name: {name}
    description: One row per order day and country.
    columns:
      - {{name: order_date, type: date, primary_key: true, description: The day the orders were placed}}
      - {{name: country, type: string, primary_key: true, description: ISO 3166 country code of the customer}}
      - {{name: orders, type: long, nullable: false, description: Number of orders placed}}
      - {{name: revenue, type: "decimal(12,2)", nullable: false, description: Sum of the order amounts in EUR, semantic_type: currency}}
    partitioning: month(order_date)
quality:
  - {{rule: range, column: revenue, min: 0}}
  - {{rule: accepted_values, column: country, values: [DE, FR, NL, ES]}}
  - {{rule: row_count, min: 1}}
sla:
  freshness: 1d
  schedule: "0 6 * * *"
  availability: 99.5
  support: {domain}@example.com
sample_queries:
  - title: Revenue per country
    sql: SELECT country, sum(revenue) AS revenue FROM {domain}.{name} GROUP BY country ORDER BY 2 DESC
)text";

constexpr const char* kTransform =
    R"text(-- The transform of {domain}.{name}: DuckDB SQL over the inputs, which it names as the spec does
-- (raw_orders). Its result is published as the port {name} and must match the port's columns.
SELECT
  CAST(ordered_at AS DATE) AS order_date,
  country,
  count(*) AS orders,
  sum(amount) AS revenue
FROM raw_orders
GROUP BY ALL
ORDER BY order_date, country
)text";

constexpr const char* kData = R"text(order_id,ordered_at,country,amount
1,2026-01-05 09:12:00,DE,120.50
2,2026-01-05 10:40:00,FR,35.00
3,2026-01-05 17:03:00,DE,12.99
4,2026-01-06 08:55:00,NL,250.00
5,2026-01-06 12:30:00,ES,80.10
6,2026-01-07 14:15:00,DE,42.00
7,2026-01-07 19:45:00,FR,19.90
8,2026-02-01 11:00:00,NL,64.00
9,2026-02-02 13:20:00,DE,310.00
10,2026-02-02 21:05:00,ES,7.50
)text";

constexpr const char* kReadme = R"text(# {domain}.{name}

{title}: a data product of the {domain} domain, published with meshwork.

- `dataproduct.yaml`: the contract (ports, columns with docs and classifications, quality rules,
  SLA). A breaking change (a column removed or renamed, a type narrowed, nullability loosened, a
  key changed) needs a new major version.
- `transform.sql`: how the port is computed from the inputs (DuckDB SQL).
- `data/orders.csv`: a tiny example input; replace it with your inputs (files or other products'
  ports, `port: domain.port`).

```sh
meshwork product validate .   # the spec, inputs, access and SQL, without running it
meshwork product plan .       # everything but the publish: contract diff, quality on real data
meshwork product deploy .     # publish
meshwork product show {domain}.{name}
```
)text";

constexpr const char* kWorkflow =
    R"text(# Validate on pull requests, deploy on main. MESHWORK_CLIENT_ID / MESHWORK_CLIENT_SECRET are the
# credentials of the domain's CI principal ({domain}_ci, printed by `meshwork domain create`).
name: data product {domain}.{name}
on:
  pull_request:
  push:
    branches: [main]
jobs:
  product:
    runs-on: ubuntu-latest
    env:
      MESHWORK_SERVER: ${{{{ vars.MESHWORK_SERVER }}}}
      MESHWORK_CLIENT_ID: ${{{{ secrets.MESHWORK_CLIENT_ID }}}}
      MESHWORK_CLIENT_SECRET: ${{{{ secrets.MESHWORK_CLIENT_SECRET }}}}
    steps:
      - uses: actions/checkout@v4
      - name: validate
        run: meshwork product validate . && meshwork product plan .
      - name: deploy
        if: github.event_name == 'push' && github.ref == 'refs/heads/main'
        run: meshwork product deploy .
)text";

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ScaffoldFiles(const std::string& domain,
                                                                       const std::string& name) {
  MW_RETURN_IF_ERROR(ValidateProductName("domain", domain));
  MW_RETURN_IF_ERROR(ValidateProductName("product", name));
  std::string title = name;
  for (char& c : title)
    if (c == '_') c = ' ';
  title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  const auto render = [&](const char* text) {
    return fmt::format(fmt::runtime(text), fmt::arg("domain", domain), fmt::arg("name", name),
                       fmt::arg("title", title));
  };
  return std::vector<std::pair<std::string, std::string>>{
      {"dataproduct.yaml", render(kSpec)},
      {"transform.sql", render(kTransform)},
      {"data/orders.csv", kData},
      {"README.md", render(kReadme)},
      {".github/workflows/dataproduct.yml", render(kWorkflow)}};
}

Result<std::vector<std::string>> WriteScaffold(const std::string& folder, const std::string& domain,
                                               const std::string& name, bool force) {
  namespace fs = std::filesystem;
  MW_ASSIGN_OR_RETURN(auto files, ScaffoldFiles(domain, name));
  std::error_code error;
  if (fs::exists(folder, error) && !fs::is_empty(folder, error) && !force) {
    return Status::AlreadyExists("{} exists and is not empty", folder)
        .WithHint("pick another --dir, or pass --force to write into it");
  }
  std::vector<std::string> written;
  for (const auto& [relative, content] : files) {
    const fs::path path = fs::path(folder) / relative;
    fs::create_directories(path.parent_path(), error);
    if (error)
      return Status::IOError("cannot create {}: {}", path.parent_path().string(), error.message());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return Status::IOError("cannot write {}", path.string());
    written.push_back(relative);
  }
  return written;
}

}  // namespace meshwork::product
