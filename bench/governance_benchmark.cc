// What the council's rules cost, in one run on one engine:
//
//  1. Query time: a 10M-row scan of a product with classified columns, run by a principal the
//     policies do not touch (UNMASK) and by one they do — column masks (email_domain on
//     pii.email, redact on pii.name), a row filter that reads the principal's attribute and
//     keeps every row (so both sides aggregate the same rows: the difference is the policies'
//     work, not fewer rows), and both together. Two query shapes: one computing every masked
//     value (what the masks themselves cost, no target: the query asked for that work) and a
//     grouped query reading no masked column. Target: overhead <= 10% (ratio <= 1.10).
//  2. Deploy time: deploying the same 10M-row product with no policies in force, with the
//     council's data rules (card numbers, e-mails, phones, IBANs in unclassified text columns;
//     sampled, the default 10,000 rows per column), and with the same rules in exact mode
//     (every row, opt-in; no target). Target: the sampled rules cost <= 10% of the deploy.
//
// GOV_BENCH_EXPLAIN=1 prints both principals' plans, to see which policies applied.
// Usage: governance_benchmark [ROWS] [RUNS]   (defaults: 10,000,000 rows, 3 runs each)

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "bench/bench_util.h"
#include "catalog/catalog.h"
#include "governance/governance.h"
#include "governance/policy.h"
#include "metastore/metastore.h"
#include "product/governance_gate.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/session.h"

using namespace meshwork;

namespace {

constexpr const char* kSpec = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: bench
name: {name}
version: 1.0.0
owner: {{team: bench, email: bench@example.com}}
description: Synthetic customers for the governance benchmark
transform:
  sql: >-
    SELECT i AS customer_number,
           'Customer ' || i AS name,
           'user' || i || '@example' || (i % 50) || '.com' AS email,
           ['DE', 'FR', 'IT', 'ES', 'NL'][1 + i % 5] AS country,
           (i % 1000) / 10.0 AS amount
    FROM range({rows}) t(i)
ports:
  - name: {name}
    description: One row per customer
    columns:
      - {{name: customer_number, type: long, description: Number}}
      - {{name: name, type: string, description: Full name, classification: pii.name}}
      - {{name: email, type: string, description: E-mail, classification: pii.email}}
      - {{name: country, type: string, description: Country code}}
      - {{name: amount, type: double, description: Spend}}
)yaml";

// The council's rules as the demo has them, scoped to the benchmark's domain. A policy is kept
// as its YAML (what `policy show` prints), so each variant is its own document.
constexpr const char* kPolicyHeader = R"yaml(apiVersion: meshwork/v1
kind: Policy
name: bench-personal-data
rules:
)yaml";
constexpr const char* kDataRules = R"yaml(  - id: no-unclassified-card-numbers
    description: No card numbers outside pii.credit_card columns
    check: {{kind: data, detector: card_number, sample_rows: {sample}}}
  - id: no-unclassified-emails
    description: No e-mail addresses outside pii.email columns
    check: {{kind: data, detector: email, sample_rows: {sample}}}
  - id: no-unclassified-phones
    description: No phone numbers outside pii.phone columns
    severity: warn
    check: {{kind: data, detector: phone, sample_rows: {sample}}}
  - id: no-unclassified-ibans
    description: No IBANs outside pii.iban columns
    check: {{kind: data, detector: iban, sample_rows: {sample}}}
)yaml";
constexpr const char* kMaskRules = R"yaml(  - id: mask-emails
    description: E-mails keep their domain
    scope: {classifications: [pii.email]}
    check: {kind: mask, mask: email_domain}
  - id: mask-names
    description: Names are redacted
    scope: {classifications: [pii.name]}
    check: {kind: mask, mask: redact}
)yaml";
constexpr const char* kRowFilterRule = R"yaml(  - id: rows-by-country
    description: A principal sees its country, or every one with all_countries
    scope: {tables: [bench.*]}
    check:
      kind: row_filter
      sql: country = principal_attr('country') OR principal_attr('all_countries') = 'true'
)yaml";

std::vector<governance::Policy> ParseRules(const std::string& rules) {
  return {bench::Must(governance::ParsePolicy(kPolicyHeader + rules, "bench-personal-data.yaml"),
                      "policy")};
}

// Data rules (the deploy-time cost), with the query-time rules in force too as in the demo.
std::vector<governance::Policy> Policies(const std::string& sample) {
  return ParseRules(fmt::format(fmt::runtime(kDataRules), fmt::arg("sample", sample)) + kMaskRules +
                    kRowFilterRule);
}

// Only the query-time rules: masks, the row filter, or both.
std::vector<governance::Policy> QueryPolicies(bool masks, bool filter) {
  return ParseRules(std::string(masks ? kMaskRules : "") + (filter ? kRowFilterRule : ""));
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  bench::ScratchFolder scratch("meshwork-governance-bench");
  auto metastore = bench::Must(
      metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()}), "metastore");
  auto catalog = bench::Must(
      catalog::Catalog::Open(*metastore, {.warehouse_root = (scratch.path() / "wh").string()}),
      "catalog");
  governance::Governance governance(*catalog);
  auto gate = product::MakePolicyGate(governance);
  product::ProductService products(*catalog, gate.get());
  const catalog::Caller root{.principal = "root", .is_root = true, .request_id = "bench"};

  const auto spec_of = [&](const std::string& name) {
    const auto folder = scratch.path() / name;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "dataproduct.yaml")
        << fmt::format(fmt::runtime(kSpec), fmt::arg("name", name), fmt::arg("rows", rows));
    return bench::Must(product::LoadSpec(folder.string()), "spec");
  };
  int deployed = 0;
  // Seconds of the whole deploy, and of its governance step(s).
  const auto deploy = [&](double& governance_seconds) {
    auto spec = spec_of(fmt::format("people_{}", deployed++));
    const auto started = std::chrono::steady_clock::now();
    auto report = bench::Must(products.Deploy(root, spec, {.create_domain = true}), "deploy");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bench::MustOk(report.failure, "deploy");
    governance_seconds = 0;
    for (const auto& step : report.steps)
      if (step.step.find("governance") != std::string::npos) governance_seconds += step.seconds;
    return seconds;
  };

  std::printf("governance benchmark: %lld rows, median of %d runs\n", static_cast<long long>(rows),
              runs);
  // --- Deploy time -----------------------------------------------------------------------
  struct DeployCase {
    const char* what;
    std::vector<governance::Policy> policies;
    double seconds = 0, rules_seconds = 0;
  };
  std::vector<DeployCase> cases = {
      {"no policies", {}},
      {"data rules, sampled (10,000 rows per column)", Policies("10000")},
      {"data rules, exact (every row)", Policies("0")}};
  for (auto& c : cases) {
    bench::Must(governance.Apply(root, c.policies), "apply");
    double rules = 0, total_rules = 0;
    std::vector<double> totals;
    for (int run = 0; run < runs; ++run) {
      totals.push_back(deploy(rules));
      total_rules += rules;
    }
    std::sort(totals.begin(), totals.end());
    c.seconds = totals[totals.size() / 2];
    c.rules_seconds = total_rules / runs;
    std::printf("  deploy, %-44s %7.2f s (governance step %.2f s)\n", c.what, c.seconds,
                c.rules_seconds);
  }
  for (size_t i = 1; i < cases.size(); ++i) {
    const double share = cases[i].rules_seconds / cases[i].seconds;
    const double ratio = cases[i].seconds / cases[0].seconds;
    std::printf(
        "  %s: governance step %.1f%% of the deploy; deploy %.2fx the one without "
        "policies\n",
        cases[i].what, 100 * share, ratio);
    if (i == 1) {  // the default, sampled; exact mode is opt-in and reads every value
      bench::PrintRatio(fmt::format("deploy-time data rules ({})", cases[i].what).c_str(),
                        1 + share, "<= 1.10 (rules <= 10% of the deploy)", share <= 0.10);
    }
  }

  // --- Query time ------------------------------------------------------------------------
  // The last deployed table is the one queried.
  const std::string table = fmt::format("bench.people_{}", deployed - 1);
  auto analyst = bench::Must(catalog->CreatePrincipal(root, "analyst", "user"), "principal");
  auto officer = bench::Must(catalog->CreatePrincipal(root, "officer", "user"), "principal");
  bench::MustOk(catalog->CreateRole(root, "readers", ""), "role");
  bench::MustOk(catalog->CreateRole(root, "unmaskers", ""), "role");
  bench::MustOk(catalog->Grant(root, "readers", catalog::Privilege::kReadData,
                               catalog::Securable::Namespace({"bench"})),
                "grant");
  bench::MustOk(catalog->Grant(root, "unmaskers", catalog::Privilege::kUnmask,
                               catalog::Securable::Namespace({"bench"})),
                "grant");
  bench::MustOk(catalog->AssignRole(root, "analyst", "readers"), "assign");
  bench::MustOk(catalog->AssignRole(root, "officer", "readers"), "assign");
  bench::MustOk(catalog->AssignRole(root, "officer", "unmaskers"), "assign");
  bench::MustOk(governance.SetAttributes(root, "analyst", {{"all_countries", "true"}}), "attrs");
  const auto caller_of = [&](const catalog::NewCredentials& credentials) {
    auto token =
        bench::Must(catalog->IssueToken(credentials.client_id, credentials.client_secret), "token");
    return bench::Must(catalog->Authenticate(token.access_token, "bench"), "caller");
  };
  const catalog::Caller analyst_caller = caller_of(analyst);
  const catalog::Caller officer_caller = caller_of(officer);

  auto access = query::MakeGovernanceAccess(governance, products);
  auto service = bench::Must(
      query::QueryService::Open(*catalog, {.products = &products, .access_policy = access.get()}),
      "query service");
  auto analyst_session = bench::Must(service->OpenSession(analyst_caller), "session");
  auto officer_session = bench::Must(service->OpenSession(officer_caller), "session");
  // Two shapes: the worst case, where every masked value is computed (max() of the masked
  // strings over every row), and an analyst's grouped query that reads no masked column.
  struct Shape {
    const char* what;
    std::string sql;
  };
  const std::vector<Shape> shapes = {
      {"every masked value computed",
       fmt::format(
           "SELECT count(*), max(email), max(name), count(DISTINCT country), sum(amount) FROM {}",
           table)},
      {"grouped, masked columns unread",
       fmt::format("SELECT country, count(*), sum(amount) FROM {} GROUP BY country", table)}};
  const auto run = [&](query::Session& session, const std::string& sql) {
    return [&session, &sql] {
      auto cursor = bench::Must(session.Execute(sql), "query");
      bench::Must(query::ReadAll(cursor, 10), "rows");
    };
  };
  struct QueryCase {
    const char* what;
    bool masks, filter;
  };
  for (const QueryCase& c :
       {QueryCase{"column masks", true, false}, QueryCase{"row filter", false, true},
        QueryCase{"masks and row filter", true, true}}) {
    bench::Must(governance.Apply(root, QueryPolicies(c.masks, c.filter)), "apply");
    for (const Shape& shape : shapes) {
      // Warm both (file cache, policy cache), then alternate so drift hits both sides alike.
      run(*officer_session, shape.sql)();
      run(*analyst_session, shape.sql)();
      if (std::getenv("GOV_BENCH_EXPLAIN") != nullptr) {
        for (query::Session* session : {officer_session.get(), analyst_session.get()}) {
          auto cursor = bench::Must(session->Execute("EXPLAIN " + shape.sql), "explain");
          std::printf("%s\n", bench::Must(query::ReadAll(cursor, 1000), "plan").explain.c_str());
        }
      }
      std::vector<double> none, with;
      for (int i = 0; i < runs; ++i) {
        none.push_back(bench::MedianSeconds(1, run(*officer_session, shape.sql)));
        with.push_back(bench::MedianSeconds(1, run(*analyst_session, shape.sql)));
      }
      std::sort(none.begin(), none.end());
      std::sort(with.begin(), with.end());
      const double base = none[none.size() / 2], policed = with[with.size() / 2];
      std::printf("  %lld rows, %-20s %-31s without %.3f s, with %.3f s\n",
                  static_cast<long long>(rows), c.what, shape.what, base, policed);
      // Computing a mask is work the query asked for (about 40 ns per masked string in DuckDB);
      // the target is for the policies' overhead on queries that do not read masked values.
      const bool computes_masks = c.masks && &shape == &shapes.front();
      if (computes_masks) {
        std::printf("  query-time %s, %s: ratio %.2fx (cost of the masks themselves; no target)\n",
                    c.what, shape.what, policed / base);
      } else {
        bench::PrintRatio(
            fmt::format("query-time {}, {} (policies / none)", c.what, shape.what).c_str(),
            policed / base, "<= 1.10", policed / base <= 1.10);
      }
    }
  }
  return 0;
}
