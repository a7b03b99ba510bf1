#include "product/contract.h"

#include <fmt/format.h>

#include <algorithm>

#include "iceberg/types.h"

namespace meshwork::product {
namespace {

Bump Max(Bump a, Bump b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

Bump BumpBetween(const SemanticVersion& from, const SemanticVersion& to) {
  if (to.major != from.major) return Bump::kMajor;
  if (to.minor != from.minor) return Bump::kMinor;
  if (to.patch != from.patch) return Bump::kPatch;
  return Bump::kNone;
}

// The Iceberg type of one column, as the spec's parser built it.
const iceberg::NestedField* FieldOf(const Port& port, const std::string& column) {
  if (!port.schema) return nullptr;
  for (const auto& field : port.schema->fields())
    if (field.name == column) return &field;
  return nullptr;
}

void DiffPort(const Port& before, const Port& after, std::vector<ContractChange>& changes) {
  const auto add = [&](const std::string& column, Bump bump, std::string what) {
    changes.push_back({after.name, column, bump, std::move(what)});
  };
  for (const Column& old_column : before.columns) {
    const Column* now = after.FindColumn(old_column.name);
    if (now == nullptr) {
      add(old_column.name, Bump::kMajor, "column removed (or renamed)");
      continue;
    }
    const auto* old_field = FieldOf(before, old_column.name);
    const auto* new_field = FieldOf(after, old_column.name);
    if (old_field && new_field && !(*old_field->type == *new_field->type)) {
      const bool widened = iceberg::IsPromotionAllowed(*old_field->type, *new_field->type);
      add(old_column.name, widened ? Bump::kMinor : Bump::kMajor,
          fmt::format("type {} -> {}{}", old_field->type->ToString(), new_field->type->ToString(),
                      widened ? " (widened)" : ""));
    }
    if (!old_column.nullable && now->nullable) {
      add(old_column.name, Bump::kMajor, "now nullable (readers may rely on non-null values)");
    } else if (old_column.nullable && !now->nullable) {
      add(old_column.name, Bump::kMinor, "now required");
    }
    if (old_column.description != now->description) {
      add(old_column.name, Bump::kPatch, "description changed");
    }
    if (old_column.classification != now->classification) {
      add(old_column.name, Bump::kPatch,
          fmt::format("classification '{}' -> '{}'", old_column.classification,
                      now->classification));
    }
    if (old_column.semantic_type != now->semantic_type) {
      add(old_column.name, Bump::kPatch, "semantic type changed");
    }
  }
  for (const Column& new_column : after.columns) {
    if (before.FindColumn(new_column.name) != nullptr) continue;
    add(new_column.name, new_column.nullable ? Bump::kMinor : Bump::kMajor,
        new_column.nullable ? "optional column added"
                            : "required column added (older writers and readers cannot fill it)");
  }
  if (before.PrimaryKey() != after.PrimaryKey()) {
    add("", Bump::kMajor, "primary key changed");
  }
  if (before.partitioning != after.partitioning) add("", Bump::kPatch, "partitioning changed");
  if (before.sort != after.sort) add("", Bump::kPatch, "sort order changed");
  if (before.description != after.description) add("", Bump::kPatch, "description changed");
}

}  // namespace

std::string_view BumpName(Bump bump) {
  switch (bump) {
    case Bump::kNone:
      return "none";
    case Bump::kPatch:
      return "patch";
    case Bump::kMinor:
      return "minor";
    case Bump::kMajor:
      return "major";
  }
  return "none";
}

ContractDiff DiffContracts(const DataProductSpec* published, const DataProductSpec& proposed) {
  ContractDiff diff;
  if (published == nullptr) {
    diff.proposed = Bump::kMajor;
    diff.verdict = fmt::format("first publication of {} v{}", proposed.QualifiedName(),
                               proposed.version.major);
    return diff;
  }
  for (const Port& old_port : published->ports) {
    const Port* now = proposed.FindPort(old_port.name);
    if (now == nullptr) {
      diff.changes.push_back({old_port.name, "", Bump::kMajor, "port removed"});
    } else {
      DiffPort(old_port, *now, diff.changes);
    }
  }
  for (const Port& new_port : proposed.ports) {
    if (published->FindPort(new_port.name) == nullptr) {
      diff.changes.push_back({new_port.name, "", Bump::kMinor, "port added"});
    }
  }
  // Everything else a consumer can see but not break on.
  const auto patch = [&](bool changed, const char* what) {
    if (changed) diff.changes.push_back({"", "", Bump::kPatch, what});
  };
  patch(published->description != proposed.description || published->title != proposed.title,
        "title or description changed");
  patch(published->transform.sql != proposed.transform.sql, "transform SQL changed");
  const auto same_rule = [](const QualityRule& a, const QualityRule& b) {
    return a.rule == b.rule && a.name == b.name && a.port == b.port && a.columns == b.columns &&
           a.severity == b.severity && a.values == b.values && a.min == b.min && a.max == b.max &&
           a.pattern == b.pattern && a.max_age == b.max_age && a.reference == b.reference &&
           a.sql == b.sql;
  };
  patch(published->quality.size() != proposed.quality.size() ||
            !std::equal(published->quality.begin(), published->quality.end(),
                        proposed.quality.begin(), same_rule),
        "quality rules changed");
  patch(published->sla.freshness != proposed.sla.freshness ||
            published->sla.schedule != proposed.sla.schedule ||
            published->sla.availability != proposed.sla.availability ||
            published->sla.support != proposed.sla.support,
        "SLA changed");
  patch(published->tags != proposed.tags || published->glossary != proposed.glossary,
        "tags or glossary changed");
  const auto same_input = [](const Input& a, const Input& b) {
    return a.name == b.name && a.file == b.file && a.format == b.format && a.options == b.options &&
           a.product_domain == b.product_domain && a.product_port == b.product_port &&
           a.major == b.major;
  };
  patch(published->inputs.size() != proposed.inputs.size() ||
            !std::equal(published->inputs.begin(), published->inputs.end(), proposed.inputs.begin(),
                        same_input),
        "inputs changed");
  patch(published->sample_queries.size() != proposed.sample_queries.size() ||
            !std::equal(published->sample_queries.begin(), published->sample_queries.end(),
                        proposed.sample_queries.begin(),
                        [](const SampleQuery& a, const SampleQuery& b) {
                          return a.title == b.title && a.sql == b.sql;
                        }),
        "sample queries changed");
  patch(published->links.size() != proposed.links.size() ||
            !std::equal(
                published->links.begin(), published->links.end(), proposed.links.begin(),
                [](const Link& a, const Link& b) { return a.title == b.title && a.url == b.url; }),
        "links changed");
  patch(published->transform.mode != proposed.transform.mode ||
            published->transform.watermark != proposed.transform.watermark ||
            published->transform.keys != proposed.transform.keys,
        "transform mode changed");
  patch(published->owner.team != proposed.owner.team ||
            published->owner.email != proposed.owner.email,
        "owner changed");
  for (const ContractChange& change : diff.changes)
    diff.required = Max(diff.required, change.bump);

  const std::string from = published->version.ToString();
  const std::string to = proposed.version.ToString();
  diff.proposed = BumpBetween(published->version, proposed.version);
  if (proposed.version < published->version) {
    diff.compatible = false;
    diff.verdict = fmt::format("version {} is older than the published {}", to, from);
  } else if (diff.proposed == Bump::kNone) {
    // The same version again: a refresh of the data, allowed only with the same contract.
    diff.compatible = diff.changes.empty();
    diff.verdict = diff.compatible ? fmt::format("{} unchanged: a refresh of the data", to)
                                   : fmt::format(
                                         "the spec changed but the version is still {}: needs a {} "
                                         "version",
                                         to, BumpName(diff.required));
  } else if (static_cast<int>(diff.proposed) < static_cast<int>(diff.required)) {
    diff.compatible = false;
    diff.verdict = fmt::format("{} -> {} is a {} bump but the changes need a {} version", from, to,
                               BumpName(diff.proposed), BumpName(diff.required));
  } else {
    diff.verdict = diff.changes.empty()
                       ? fmt::format("{} -> {}: no contract changes", from, to)
                       : fmt::format("{} -> {}: compatible ({} changes, at least a {} bump needed)",
                                     from, to, diff.changes.size(), BumpName(diff.required));
  }
  return diff;
}

std::vector<std::string> DescribeDiff(const ContractDiff& diff) {
  std::vector<std::string> lines;
  for (const ContractChange& change : diff.changes) {
    std::string where = change.port;
    if (!change.column.empty()) where += (where.empty() ? "" : ".") + change.column;
    if (where.empty()) where = "product";
    lines.push_back(fmt::format("{} {}: {} ({})", change.bump == Bump::kMajor ? "!" : "-", where,
                                change.what, BumpName(change.bump)));
  }
  return lines;
}

}  // namespace meshwork::product
