// The published side of the product service: listings, history, deprecation, lineage, search,
// recovery of interrupted deploys, and the JSON forms the CLI and the API print.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/logging.h"
#include "common/text.h"
#include "common/time.h"
#include "iceberg/maintenance.h"
#include "product/records.h"
#include "product/service.h"

namespace meshwork::product {
using namespace internal;  // NOLINT

namespace {

using catalog::Caller;
using catalog::Privilege;
using catalog::Securable;
using nlohmann::json;

// Whether the caller may see a product: READ_METADATA on one of its tables.
bool Visible(catalog::Catalog& catalog, const Caller& caller, const ProductRecord& record) {
  for (const PublishedPort& port : record.ports) {
    const size_t dot = port.table.find('.');
    if (dot == std::string::npos) continue;
    if (catalog
            .Authorize(caller, Privilege::kReadMetadata,
                       Securable::Table({port.table.substr(0, dot)}, port.table.substr(dot + 1)))
            .ok()) {
      return true;
    }
  }
  return catalog.Authorize(caller, Privilege::kReadMetadata, Securable::Namespace({record.domain}))
      .ok();
}

}  // namespace

Result<std::vector<ProductRecord>> ProductService::ListProducts(const Caller& caller,
                                                                const std::string& domain) {
  if (!domain.empty()) MW_RETURN_IF_ERROR(ValidateProductName("domain", domain));
  MW_ASSIGN_OR_RETURN(auto documents, catalog_.metastore().ListDocuments(
                                          kProducts, domain.empty() ? "" : domain + "/"));
  std::vector<ProductRecord> records;
  for (const auto& document : documents) {
    ProductRecord record = RecordFromStored(document);
    if (Visible(catalog_, caller, record)) records.push_back(std::move(record));
  }
  return records;
}

Result<ProductRecord> ProductService::LoadProduct(const Caller& caller, const std::string& domain,
                                                  const std::string& name,
                                                  std::optional<int> major) {
  MW_RETURN_IF_ERROR(ValidateProductName("domain", domain));
  MW_RETURN_IF_ERROR(ValidateProductName("product", name));
  MW_ASSIGN_OR_RETURN(auto documents,
                      catalog_.metastore().ListDocuments(kProducts, domain + "/" + name + "/"));
  std::optional<ProductRecord> chosen;
  for (const auto& document : documents) {
    ProductRecord record = RecordFromStored(document);
    if (major && record.major != *major) continue;
    // The newest active line wins; a deprecated one only when nothing else is left.
    const bool better = !chosen || (record.state == "active" && chosen->state != "active") ||
                        (record.state == chosen->state && record.major > chosen->major);
    if (better) chosen = std::move(record);
  }
  if (!chosen || !Visible(catalog_, caller, *chosen)) {
    return Status::NotFound("data product {}.{}{} is not published", domain, name,
                            major ? fmt::format(" (major {})", *major) : "")
        .WithHint("`meshwork product list` shows the products you can see");
  }
  return *chosen;
}

Result<std::vector<HistoryEntry>> ProductService::History(const Caller& caller,
                                                          const std::string& domain,
                                                          const std::string& name) {
  MW_RETURN_IF_ERROR(LoadProduct(caller, domain, name).status());
  MW_ASSIGN_OR_RETURN(auto documents,
                      catalog_.metastore().ListDocuments(kHistory, domain + "/" + name + "/"));
  std::vector<HistoryEntry> history;
  for (const auto& document : documents) {
    json value = json::parse(document.body, nullptr, false);
    if (!value.is_object()) continue;
    HistoryEntry entry;
    entry.version = value.value("version", "");
    entry.major = value.value("major", 1);
    entry.at_ms = value.value("at_ms", int64_t{0});
    entry.by = value.value("by", "");
    entry.action = value.value("action", "");
    entry.summary = value.value("summary", "");
    if (value.contains("changes") && value["changes"].is_array()) {
      for (const auto& change : value["changes"]) {
        if (!change.is_object()) continue;
        ContractChange parsed{.port = change.value("port", ""),
                              .column = change.value("column", ""),
                              .what = change.value("what", "")};
        const std::string bump = change.value("bump", "");
        for (const Bump candidate : {Bump::kNone, Bump::kPatch, Bump::kMinor, Bump::kMajor})
          if (BumpName(candidate) == bump) parsed.bump = candidate;
        entry.changes.push_back(std::move(parsed));
      }
    }
    if (value.contains("ports") && value["ports"].is_array()) {
      for (const auto& port : value["ports"])
        if (port.is_object()) entry.ports.push_back(PortFromJson(port));
    }
    entry.quality_passed = value.value("quality_passed", int64_t{0});
    entry.quality_total = value.value("quality_total", int64_t{0});
    history.push_back(std::move(entry));
  }
  return history;
}

Result<ProductRecord> ProductService::Deprecate(const Caller& caller, const std::string& domain,
                                                const std::string& name, int major,
                                                const std::string& sunset,
                                                const std::string& message) {
  MW_ASSIGN_OR_RETURN(ProductRecord record, LoadProduct(caller, domain, name, major));
  MW_RETURN_IF_ERROR(
      catalog_.Authorize(caller, Privilege::kWriteData, Securable::Namespace({domain})));
  static const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
  if (!std::regex_match(sunset, kDate)) {
    return Status::InvalidArgument("sunset '{}' is not a date", sunset)
        .WithHint("write it as YYYY-MM-DD");
  }
  record.state = "deprecated";
  record.sunset = sunset;
  record.deprecation_message = message;
  const int64_t now = time::NowMillis();
  const json history = {
      {"version", record.version}, {"major", record.major}, {"at_ms", now},
      {"by", caller.principal},    {"action", "deprecate"}, {"summary", "sunset " + sunset},
      {"ports", json::array()}};
  MW_RETURN_IF_ERROR(
      catalog_.metastore().WriteDocuments(caller.actor(),
                                          {{.collection = kProducts,
                                            .key = ProductKey(domain, name, major),
                                            .body = Dump(RecordToStoredJson(record)),
                                            .expected_version = record.document_version},
                                           {.collection = kHistory,
                                            .key = HistoryKey(domain, name, now, major),
                                            .body = Dump(history)}},
                                          "deprecate_product", "product", record.QualifiedName(),
                                          Dump({{"major", major}, {"sunset", sunset}})));
  record.document_version += 1;
  return record;
}

Result<Scorecard> ProductService::ScoreProduct(const Caller& caller, const std::string& domain,
                                               const std::string& name) {
  MW_ASSIGN_OR_RETURN(ProductRecord record, LoadProduct(caller, domain, name));
  MW_ASSIGN_OR_RETURN(DataProductSpec spec, record.Spec());
  MW_ASSIGN_OR_RETURN(auto history, History(caller, domain, name));
  Scorecard card;
  // Documentation: one point per thing a consumer needs to read.
  int documented = 0, items = 0;
  const auto item = [&](bool present, const std::string& missing) {
    ++items;
    if (present) {
      ++documented;
    } else {
      card.improvements.push_back(missing);
    }
  };
  item(!spec.description.empty(), "add a description");
  item(!spec.owner.email.empty(), "add owner.email");
  item(!spec.sla.freshness.empty(), "declare sla.freshness");
  item(!spec.sla.support.empty(), "declare sla.support");
  item(!spec.sample_queries.empty(), "add a sample query");
  for (const Port& port : spec.ports) {
    item(!port.description.empty(), "describe port " + port.name);
    for (const Column& column : port.columns)
      item(!column.description.empty(), "document column " + port.name + "." + column.name);
  }
  card.documentation = items ? static_cast<double>(documented) / items : 0;
  card.age_seconds = (time::NowMillis() - record.published_at_ms) / 1000;
  card.freshness = "unknown";
  if (auto max_age = ParseDurationSeconds(spec.sla.freshness); max_age.ok()) {
    card.freshness = card.age_seconds <= *max_age ? "fresh" : "late";
    if (card.freshness == "late") card.improvements.push_back("publish: the data is late");
  }
  int64_t passed = 0, total = 0;
  int counted = 0;
  for (auto it = history.rbegin(); it != history.rend() && counted < 10; ++it) {
    if (it->action != "deploy") continue;
    passed += it->quality_passed, total += it->quality_total, ++counted;
  }
  card.quality_pass_rate = total ? static_cast<double>(passed) / total : 1.0;
  if (total == 0) card.improvements.push_back("add quality rules");
  card.governance_warnings = static_cast<int64_t>(record.warnings.size());
  // Weights: trust comes from quality and freshness first, then docs; warnings cost points.
  const double freshness = card.freshness == "fresh" ? 1 : card.freshness == "unknown" ? 0.5 : 0;
  double score = 40 * card.quality_pass_rate + 30 * freshness + 30 * card.documentation -
                 5 * static_cast<double>(card.governance_warnings);
  card.score = static_cast<int>(std::clamp(score, 0.0, 100.0) + 0.5);
  return card;
}

Result<ProductRecord> ProductService::Rollback(const Caller& caller, const std::string& domain,
                                               const std::string& name,
                                               const std::string& version) {
  MW_ASSIGN_OR_RETURN(SemanticVersion target, SemanticVersion::Parse(version));
  MW_ASSIGN_OR_RETURN(ProductRecord record, LoadProduct(caller, domain, name, target.major));
  MW_RETURN_IF_ERROR(
      catalog_.Authorize(caller, Privilege::kWriteData, Securable::Namespace({domain})));
  MW_ASSIGN_OR_RETURN(auto documents,
                      catalog_.metastore().ListDocuments(kHistory, domain + "/" + name + "/"));
  std::optional<json> chosen;
  for (const auto& document : documents) {
    json value = json::parse(document.body, nullptr, false);
    if (value.is_object() && value.value("action", "") == "deploy" &&
        value.value("version", "") == version && value.contains("spec_yaml")) {
      chosen = value;  // the last deploy of that version
    }
  }
  if (!chosen) {
    return Status::NotFound("{}.{} was never published as {} (or too long ago to roll back to)",
                            domain, name, version)
        .WithHint(fmt::format("`meshwork product history {}.{}` lists the versions", domain, name));
  }
  std::vector<PublishedPort> ports;
  for (const auto& port : (*chosen)["ports"])
    ports.push_back(PortFromJson(port));
  for (const PublishedPort& port : ports) {
    const size_t dot = port.table.find('.');
    const iceberg::TableIdentifier identifier{{port.table.substr(0, dot)},
                                              port.table.substr(dot + 1)};
    const json requirements = json::array();
    const json updates = json::array({{{"action", "set-snapshot-ref"},
                                       {"ref-name", "main"},
                                       {"type", "branch"},
                                       {"snapshot-id", port.snapshot_id}}});
    MW_RETURN_IF_ERROR(
        catalog_.CommitTable(caller, {identifier, &requirements, &updates}).status());
  }
  record.version = version;
  record.ports = ports;
  record.spec_yaml = (*chosen).value("spec_yaml", "");
  record.transform_sql = (*chosen).value("transform_sql", "");
  record.published_at_ms = time::NowMillis();
  record.published_by = caller.principal;
  const json history = {{"version", version},
                        {"major", record.major},
                        {"at_ms", record.published_at_ms},
                        {"by", caller.principal},
                        {"action", "rollback"},
                        {"summary", "rolled back to " + version},
                        {"ports", (*chosen)["ports"]}};
  MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
      caller.actor(),
      {{.collection = kProducts,
        .key = ProductKey(domain, name, record.major),
        .body = Dump(RecordToStoredJson(record)),
        .expected_version = record.document_version},
       {.collection = kHistory,
        .key = HistoryKey(domain, name, record.published_at_ms, record.major),
        .body = Dump(history)}},
      "rollback_product", "product", record.QualifiedName(), Dump({{"version", version}})));
  record.document_version += 1;
  return record;
}

Status ProductService::DeleteProduct(const Caller& caller, const std::string& domain,
                                     const std::string& name, int major, bool force) {
  MW_ASSIGN_OR_RETURN(ProductRecord record, LoadProduct(caller, domain, name, major));
  MW_RETURN_IF_ERROR(catalog_.Authorize(caller, Privilege::kDrop, Securable::Namespace({domain})));
  if (!force) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char today[16];
    std::strftime(today, sizeof today, "%Y-%m-%d", &utc);
    if (record.state != "deprecated" || record.sunset.empty() || record.sunset >= today) {
      return Status::FailedPrecondition(
                 "{} v{} is {}; a line goes only after its sunset date has passed",
                 record.QualifiedName(), major,
                 record.state == "deprecated" ? "deprecated until " + record.sunset : "active")
          .WithHint(fmt::format("`meshwork product deprecate {} --major {} --sunset YYYY-MM-DD` "
                                "first, or --force",
                                record.QualifiedName(), major));
    }
    // Consumers that still read it would break.
    MW_ASSIGN_OR_RETURN(auto all, ListProducts(caller));
    for (const ProductRecord& other : all) {
      auto spec = other.Spec();
      if (!spec.ok() || other.state != "active") continue;
      for (const Input& input : spec->inputs) {
        if (input.is_port() && input.product_domain == domain && input.major == major &&
            std::any_of(record.ports.begin(), record.ports.end(), [&](const PublishedPort& port) {
              return port.port == input.product_port;
            })) {
          return Status::FailedPrecondition("{} still reads {}.{} v{}", other.QualifiedName(),
                                            domain, input.product_port, major)
              .WithHint("move its consumers to the newer major version first, or --force");
        }
      }
    }
  }
  for (const PublishedPort& port : record.ports) {
    const size_t dot = port.table.find('.');
    Status dropped = catalog_.DropTable(
        caller, {{port.table.substr(0, dot)}, port.table.substr(dot + 1)}, /*purge=*/true);
    if (!dropped.ok() && dropped.code() != StatusCode::kNotFound) return dropped;
  }
  const int64_t now_ms = time::NowMillis();
  const json history = {{"version", record.version}, {"major", major},
                        {"at_ms", now_ms},           {"by", caller.principal},
                        {"action", "delete"},        {"summary", "major line removed"},
                        {"ports", json::array()}};
  return catalog_.metastore().WriteDocuments(caller.actor(),
                                             {{.collection = kProducts,
                                               .key = ProductKey(domain, name, major),
                                               .expected_version = record.document_version,
                                               .remove = true},
                                              {.collection = kHistory,
                                               .key = HistoryKey(domain, name, now_ms, major),
                                               .body = Dump(history)}},
                                             "delete_product", "product", record.QualifiedName(),
                                             Dump({{"major", major}}));
}

Result<LineageGraph> ProductService::Lineage(const Caller& caller, const std::string& domain,
                                             const std::string& name) {
  MW_ASSIGN_OR_RETURN(ProductRecord focus, LoadProduct(caller, domain, name));
  MW_ASSIGN_OR_RETURN(auto all, ListProducts(caller));
  // Which product publishes which table, and what each product reads.
  std::map<std::string, const ProductRecord*> by_table;
  std::map<std::string, std::vector<std::pair<std::string, const Input*>>> reads;
  std::map<std::string, DataProductSpec> specs;
  for (const ProductRecord& record : all) {
    for (const PublishedPort& port : record.ports)
      by_table[port.table] = &record;
    auto spec = record.Spec();
    if (spec.ok())
      specs.emplace(record.QualifiedName() + "@" + std::to_string(record.major), *spec);
  }
  LineageGraph graph;
  std::set<std::string> nodes;
  const auto add_node = [&](const LineageNode& node) {
    if (nodes.insert(node.id).second) graph.nodes.push_back(node);
  };
  const auto product_node = [&](const ProductRecord& record) {
    return LineageNode{record.QualifiedName(), "product", record.domain, record.version};
  };
  // Edges from every product's inputs; then keep what connects to the focus.
  std::vector<LineageEdge> edges;
  for (const ProductRecord& record : all) {
    auto found = specs.find(record.QualifiedName() + "@" + std::to_string(record.major));
    if (found == specs.end()) continue;
    for (const Input& input : found->second.inputs) {
      LineageEdge edge;
      edge.to = record.QualifiedName();
      std::string prefix;  // how the record's column lineage names this input
      if (input.is_port()) {
        const std::string table =
            input.product_domain + "." + PortTableName(input.product_port, input.major);
        auto source = by_table.find(table);
        edge.from = source != by_table.end() ? source->second->QualifiedName() : table;
        edge.port = input.product_domain + "." + input.product_port;
        prefix = edge.port + ".";
      } else {
        edge.from = "file:" + record.QualifiedName() + "/" + input.file;
        edge.port = input.file;
        prefix = "file:" + input.file + ".";
      }
      for (const auto& [column, sources] : record.column_lineage) {
        for (const std::string& source : sources) {
          if (source.starts_with(prefix))
            edge.columns[column].push_back(source.substr(prefix.size()));
        }
      }
      edges.push_back(edge);
    }
  }
  // Upstream: walk edges backwards from the focus; downstream: forwards.
  std::set<std::string> upstream = {focus.QualifiedName()}, downstream = {focus.QualifiedName()};
  for (bool grew = true; grew;) {
    grew = false;
    for (const LineageEdge& edge : edges) {
      if (upstream.contains(edge.to) && upstream.insert(edge.from).second) grew = true;
      if (downstream.contains(edge.from) && downstream.insert(edge.to).second) grew = true;
    }
  }
  std::map<std::string, const ProductRecord*> by_name;
  for (const ProductRecord& record : all)
    by_name[record.QualifiedName()] = &record;
  for (const LineageEdge& edge : edges) {
    const bool up = upstream.contains(edge.to) && upstream.contains(edge.from);
    const bool down = downstream.contains(edge.from) && downstream.contains(edge.to);
    if (!up && !down) continue;
    for (const std::string& id : {edge.from, edge.to}) {
      auto record = by_name.find(id);
      if (record != by_name.end()) {
        add_node(product_node(*record->second));
      } else {
        add_node({id, id.starts_with("file:") ? "file" : "table", "", ""});
      }
    }
    graph.edges.push_back(edge);
  }
  add_node(product_node(focus));
  return graph;
}

Result<SearchResults> ProductService::Search(const Caller& caller, const std::string& query,
                                             const std::map<std::string, std::string>& filters) {
  MW_ASSIGN_OR_RETURN(auto all, ListProducts(caller));
  std::vector<std::string> terms;
  {
    std::string term;
    for (const char c : text::ToLower(query) + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '@') {
        term += c;
      } else if (!term.empty()) {
        terms.push_back(term), term.clear();
      }
    }
  }
  SearchResults results;
  std::set<std::string> seen;
  for (const ProductRecord& record : all) {
    // One hit per product: its newest active line comes first in the listing order reversed.
    auto spec = record.Spec();
    if (!spec.ok()) continue;
    std::set<std::string> classifications;
    for (const Port& port : spec->ports)
      for (const Column& column : port.columns)
        if (!column.classification.empty()) classifications.insert(column.classification);
    // Facet filters.
    const auto filter = [&](const char* key) -> const std::string* {
      auto it = filters.find(key);
      return it == filters.end() || it->second.empty() ? nullptr : &it->second;
    };
    if (const auto* value = filter("domain"); value && *value != record.domain) continue;
    if (const auto* value = filter("owner"); value && *value != spec->owner.team) continue;
    if (const auto* value = filter("tag");
        value && std::find(spec->tags.begin(), spec->tags.end(), *value) == spec->tags.end()) {
      continue;
    }
    if (const auto* value = filter("classification"); value && !classifications.contains(*value)) {
      continue;
    }
    std::string health = "healthy";
    if (std::any_of(record.quality.begin(), record.quality.end(),
                    [](const QualityResult& result) { return !result.passed; })) {
      health = "warning";  // only warn rules fail in a published version
    }
    if (!spec->sla.freshness.empty()) {
      auto max_age = ParseDurationSeconds(spec->sla.freshness);
      if (max_age.ok() && (time::NowMillis() - record.published_at_ms) / 1000 > *max_age) {
        health = "stale";
      }
    }
    if (const auto* value = filter("health"); value && *value != health) continue;
    SearchHit hit;
    hit.product = record.QualifiedName();
    hit.domain = record.domain;
    hit.title = spec->title;
    hit.description = spec->description;
    hit.owner = spec->owner.team;
    hit.version = record.version;
    hit.tags = spec->tags;
    hit.health = health;
    // Each term must match somewhere; fields weigh by how much they say about the product.
    bool all_terms = true;
    for (const std::string& term : terms) {
      double best = 0;
      std::string where;
      const auto consider = [&](const std::string& text, double weight, const std::string& field) {
        const std::string lower = text::ToLower(text);
        double score = 0;
        if (lower == term) {
          score = weight * 3;
        } else if (lower.starts_with(term)) {
          score = weight * 2;
        } else if (lower.find(term) != std::string::npos) {
          score = weight;
        }
        if (score > best) best = score, where = field;
      };
      consider(record.name, 5, "name");
      consider(record.QualifiedName(), 5, "name");
      consider(record.domain, 3, "domain");
      consider(spec->title, 3, "title");
      consider(spec->description, 1.5, "description");
      consider(spec->owner.team, 2, "owner");
      for (const std::string& tag : spec->tags)
        consider(tag, 3, "tag " + tag);
      for (const std::string& term_name : spec->glossary)
        consider(term_name, 2, "glossary " + term_name);
      for (const Port& port : spec->ports) {
        consider(port.name, 4, "port " + port.name);
        for (const Column& column : port.columns) {
          consider(column.name, 2, "column " + column.name);
          consider(column.description, 1, "column " + column.name + " doc");
          consider(column.classification, 1.5, "classification " + column.classification);
        }
      }
      if (best == 0) {
        all_terms = false;
        break;
      }
      hit.score += best;
      hit.matched.push_back(where);
    }
    if (!all_terms) continue;
    if (terms.empty()) hit.score = 1;
    if (!seen.insert(hit.product).second) continue;
    results.facets["domain"][record.domain] += 1;
    results.facets["owner"][spec->owner.team] += 1;
    results.facets["health"][health] += 1;
    for (const std::string& tag : spec->tags)
      results.facets["tag"][tag] += 1;
    for (const std::string& classification : classifications)
      results.facets["classification"][classification] += 1;
    results.hits.push_back(std::move(hit));
  }
  std::stable_sort(results.hits.begin(), results.hits.end(),
                   [](const SearchHit& a, const SearchHit& b) {
                     return a.score != b.score ? a.score > b.score : a.product < b.product;
                   });
  return results;
}

Result<int64_t> ProductService::RecoverInterruptedDeploys() {
  MW_ASSIGN_OR_RETURN(auto documents, catalog_.metastore().ListDocuments(kInflight));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  int64_t removed = 0;
  for (const auto& document : documents) {
    json value = json::parse(document.body, nullptr, false);
    if (!value.is_object()) continue;
    const int64_t pid = value.value("pid", int64_t{0});
    const int64_t started = value.value("started_at_ms", int64_t{0});
    const bool same_host = value.value("host", "") == host;
    const bool dead =
        same_host && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    // On another host we cannot tell: give it a day.
    const bool stale = time::NowMillis() - started > 24LL * 3600 * 1000;
    if (!dead && !stale) continue;
    std::vector<std::string> tables;
    if (value.contains("tables") && value["tables"].is_array()) {
      for (const auto& name : value["tables"])
        if (name.is_string()) tables.push_back(name.get<std::string>());
    }
    if (tables.empty()) tables.push_back(value.value("table", ""));
    // Product tables are written only by deploys, and this one is over: every file no snapshot
    // references is its leftover.
    bool failed = false;
    size_t files = 0;
    for (const std::string& name : tables) {
      const iceberg::TableIdentifier table{{value.value("domain", "")}, name};
      auto cleaned = iceberg::RemoveOrphanFiles(catalog_.warehouse(), table,
                                                std::chrono::seconds(0), /*dry_run=*/false);
      if (!cleaned.ok() && cleaned.error().code() != StatusCode::kNotFound) {
        logging::Warn("cannot clean up after the interrupted deploy of {}: {}", document.key,
                      cleaned.error().ToString());
        failed = true;
        continue;
      }
      if (cleaned.ok()) files += cleaned->orphans.size();
    }
    if (failed) continue;
    removed += static_cast<int64_t>(files);
    MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
        {"meshwork", ""},
        {{.collection = kInflight,
          .key = document.key,
          .expected_version = document.version,
          .remove = true}},
        "deploy_recovered", "product", document.key, Dump({{"removed_files", files}})));
    logging::Info("cleaned up the interrupted deploy of {}: {} files removed", document.key, files);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// JSON

json DeployReportToJson(const DeployReport& report) {
  json steps = json::array(), quality = json::array(), governance = json::array(),
       ports = json::array(), changes = json::array();
  for (const auto& step : report.steps) {
    steps.push_back({{"step", step.step},
                     {"outcome", step.outcome},
                     {"detail", step.detail},
                     {"seconds", step.seconds}});
  }
  for (const auto& result : report.quality)
    quality.push_back(QualityToJson(result));
  for (const auto& finding : report.governance) {
    governance.push_back({{"rule", finding.rule},
                          {"severity", finding.blocking ? "block" : "warn"},
                          {"where", finding.where},
                          {"message", finding.message},
                          {"fix", finding.fix}});
  }
  for (const auto& port : report.ports)
    ports.push_back(PortToJson(port));
  for (const auto& change : report.diff.changes) {
    changes.push_back({{"port", change.port},
                       {"column", change.column},
                       {"bump", BumpName(change.bump)},
                       {"change", change.what}});
  }
  json out = {{"product", report.product},
              {"version", report.version},
              {"major", report.major},
              {"published", report.published},
              {"dry_run", report.dry_run},
              {"steps", steps},
              {"diff",
               {{"changes", changes},
                {"required_bump", BumpName(report.diff.required)},
                {"proposed_bump", BumpName(report.diff.proposed)},
                {"compatible", report.diff.compatible},
                {"verdict", report.diff.verdict}}},
              {"quality", quality},
              {"governance", governance},
              {"ports", ports},
              {"column_lineage", report.column_lineage}};
  if (!report.failure.ok()) {
    // The hint travels in its own member, not twice.
    std::string message = report.failure.ToString();
    if (const std::string& hint = report.failure.hint(); !hint.empty()) {
      const size_t at = message.rfind("; hint: " + hint);
      if (at != std::string::npos) message.erase(at);
    }
    json error = {{"code", std::string(StatusCodeName(report.failure.code()))},
                  {"message", message}};
    if (const auto* where = report.failure.location()) error["where"] = where->ToString();
    if (!report.failure.hint().empty()) error["hint"] = report.failure.hint();
    out["error"] = error;
  }
  return out;
}

json ScorecardToJson(const Scorecard& card) {
  return {{"score", card.score},
          {"documentation", card.documentation},
          {"freshness", card.freshness},
          {"age_seconds", card.age_seconds},
          {"quality_pass_rate", card.quality_pass_rate},
          {"governance_warnings", card.governance_warnings},
          {"improvements", card.improvements}};
}

json ProductRecordToJson(const ProductRecord& record, bool with_spec) {
  json out = RecordToStoredJson(record);
  out["product"] = record.QualifiedName();
  if (!with_spec) {
    out.erase("spec_yaml");
    out.erase("transform_sql");
  }
  auto spec = record.Spec();
  if (spec.ok()) {
    out["title"] = spec->title;
    out["description"] = spec->description;
    out["owner"] = {{"team", spec->owner.team}, {"email", spec->owner.email}};
    out["tags"] = spec->tags;
    out["sla"] = {{"freshness", spec->sla.freshness},
                  {"schedule", spec->sla.schedule},
                  {"support", spec->sla.support}};
    if (spec->sla.availability) out["sla"]["availability"] = *spec->sla.availability;
    // Freshness: the age of the last publication against the SLA's max age.
    std::string status = "unknown";
    if (!spec->sla.freshness.empty()) {
      auto max_age = ParseDurationSeconds(spec->sla.freshness);
      if (max_age.ok()) {
        const int64_t age = (time::NowMillis() - record.published_at_ms) / 1000;
        status = age <= *max_age ? "fresh" : "late";
        out["sla"]["age_seconds"] = age;
      }
    }
    out["sla"]["status"] = status;
    json columns = json::array();
    for (const Port& port : spec->ports) {
      for (const Column& column : port.columns) {
        columns.push_back({{"port", port.name},
                           {"name", column.name},
                           {"type", column.type},
                           {"nullable", column.nullable},
                           {"description", column.description},
                           {"classification", column.classification},
                           {"semantic_type", column.semantic_type},
                           {"primary_key", column.primary_key}});
      }
    }
    out["columns"] = columns;
  }
  int64_t passed = 0;
  for (const auto& result : record.quality)
    passed += result.passed ? 1 : 0;
  out["quality_passed"] = passed;
  out["quality_total"] = record.quality.size();
  return out;
}

json DomainInfoToJson(const DomainInfo& domain) {
  json out = {{"name", domain.name},
              {"description", domain.description},
              {"owner", domain.owner},
              {"owner_role", domain.owner_role},
              {"consumer_role", domain.consumer_role},
              {"ci_principal", domain.ci_principal},
              {"location", domain.location},
              {"created_at_ms", domain.created_at_ms}};
  if (!domain.storage_profile.empty()) out["storage_profile"] = domain.storage_profile;
  const auto credentials = [](const catalog::NewCredentials& c) {
    return json{
        {"principal", c.principal}, {"client_id", c.client_id}, {"client_secret", c.client_secret}};
  };
  if (domain.ci_credentials) out["ci_credentials"] = credentials(*domain.ci_credentials);
  if (domain.owner_credentials) out["owner_credentials"] = credentials(*domain.owner_credentials);
  return out;
}

json LineageToJson(const LineageGraph& graph) {
  json nodes = json::array(), edges = json::array();
  for (const auto& node : graph.nodes) {
    nodes.push_back(
        {{"id", node.id}, {"kind", node.kind}, {"domain", node.domain}, {"version", node.version}});
  }
  for (const auto& edge : graph.edges) {
    edges.push_back(
        {{"from", edge.from}, {"to", edge.to}, {"port", edge.port}, {"columns", edge.columns}});
  }
  return {{"nodes", nodes}, {"edges", edges}};
}

json SearchResultsToJson(const SearchResults& results) {
  json hits = json::array();
  for (const auto& hit : results.hits) {
    hits.push_back({{"product", hit.product},
                    {"domain", hit.domain},
                    {"title", hit.title},
                    {"description", hit.description},
                    {"owner", hit.owner},
                    {"version", hit.version},
                    {"tags", hit.tags},
                    {"health", hit.health},
                    {"score", hit.score},
                    {"matched", hit.matched}});
  }
  return {{"hits", hits}, {"facets", results.facets}};
}

json ChangesToJson(const std::vector<ContractChange>& changes) {
  json out = json::array();
  for (const auto& change : changes) {
    out.push_back({{"port", change.port},
                   {"column", change.column},
                   {"bump", std::string(BumpName(change.bump))},
                   {"what", change.what}});
  }
  return out;
}

json HistoryToJson(const std::vector<HistoryEntry>& history) {
  json out = json::array();
  for (const auto& entry : history) {
    json ports = json::array();
    for (const auto& port : entry.ports)
      ports.push_back(PortToJson(port));
    out.push_back({{"version", entry.version},
                   {"major", entry.major},
                   {"at_ms", entry.at_ms},
                   {"by", entry.by},
                   {"action", entry.action},
                   {"summary", entry.summary},
                   {"changes", ChangesToJson(entry.changes)},
                   {"ports", ports},
                   {"quality_passed", entry.quality_passed},
                   {"quality_total", entry.quality_total}});
  }
  return out;
}

}  // namespace meshwork::product
