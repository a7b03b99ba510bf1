#include "iceberg/partition_spec.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "iceberg/json_reader.h"

namespace meshwork::iceberg {

bool PartitionSpec::IsUnpartitioned() const {
  for (const PartitionField& field : fields_) {
    if (field.transform.kind() != Transform::Kind::kVoid) return false;
  }
  return true;
}

int32_t PartitionSpec::LastFieldId() const {
  int32_t last = kFirstFieldId - 1;
  for (const PartitionField& field : fields_)
    last = std::max(last, field.field_id);
  return last;
}

Status PartitionSpec::Validate(const Schema& schema) const {
  std::set<std::string> names;
  std::set<int32_t> ids;
  for (const PartitionField& field : fields_) {
    const NestedField* source = schema.FindField(field.source_id);
    if (source == nullptr) {
      return Status::InvalidArgument(
          "partition field '{}' refers to source column id {}, which the schema does not have",
          field.name, field.source_id);
    }
    if (!field.transform.CanTransform(*source->type)) {
      return Status::InvalidArgument(
          "partition field '{}': {} cannot be applied to column '{}' of "
          "type {}",
          field.name, field.transform.ToString(), schema.FullName(field.source_id),
          source->type->ToString());
    }
    if (field.name.empty()) return Status::InvalidArgument("a partition field has no name");
    if (!names.insert(field.name).second) {
      return Status::InvalidArgument("two partition fields are named '{}'", field.name);
    }
    if (!ids.insert(field.field_id).second) {
      return Status::InvalidArgument("two partition fields have id {}", field.field_id);
    }
    const NestedField* clash = schema.FindField(field.name);
    if (clash != nullptr &&
        !(field.transform.kind() == Transform::Kind::kIdentity && clash->id == field.source_id)) {
      return Status::InvalidArgument("partition field name '{}' is also a column of the schema",
                                     field.name)
          .WithHint("name the partition field differently, e.g. '" + field.name + "_" +
                    field.transform.ToString().substr(0, field.transform.ToString().find('[')) +
                    "'");
    }
  }
  return Status::OK();
}

Result<TypePtr> PartitionSpec::PartitionType(const Schema& schema) const {
  std::vector<NestedField> fields;
  for (const PartitionField& field : fields_) {
    const NestedField* source = schema.FindField(field.source_id);
    if (source == nullptr) {
      return Status::InvalidArgument("partition field '{}' refers to missing column id {}",
                                     field.name, field.source_id);
    }
    MW_ASSIGN_OR_RETURN(TypePtr type, field.transform.ResultType(source->type));
    fields.push_back({field.field_id, field.name, false, std::move(type), ""});
  }
  return Type::Struct(std::move(fields));
}

namespace {

Result<std::vector<PartitionField>> FieldsFromJson(const std::vector<const nlohmann::json*>& items,
                                                   const std::string& path) {
  std::vector<PartitionField> fields;
  int32_t next_id = PartitionSpec::kFirstFieldId;
  for (size_t index = 0; index < items.size(); ++index) {
    MW_ASSIGN_OR_RETURN(auto reader,
                        json::ObjectReader::Make(*items[index], json::IndexPath(path, index)));
    PartitionField field;
    MW_ASSIGN_OR_RETURN(field.source_id, reader.RequiredInt("source-id"));
    MW_ASSIGN_OR_RETURN(auto field_id, reader.OptionalInt("field-id"));
    field.field_id = field_id.value_or(next_id);
    next_id = field.field_id + 1;
    MW_ASSIGN_OR_RETURN(field.name, reader.RequiredString("name"));
    MW_ASSIGN_OR_RETURN(std::string transform, reader.RequiredString("transform"));
    auto parsed = Transform::Parse(transform);
    if (!parsed.ok()) return std::move(parsed).error().WithContext(reader.PathOf("transform"));
    field.transform = *parsed;
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace

Result<PartitionSpec> PartitionSpecFromJson(const nlohmann::json& value, const std::string& path,
                                            int32_t default_spec_id) {
  if (value.is_array()) {
    std::vector<const nlohmann::json*> items;
    for (const nlohmann::json& item : value)
      items.push_back(&item);
    MW_ASSIGN_OR_RETURN(auto fields, FieldsFromJson(items, path));
    return PartitionSpec(default_spec_id, std::move(fields));
  }
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  MW_ASSIGN_OR_RETURN(int32_t spec_id, reader.RequiredInt("spec-id"));
  MW_ASSIGN_OR_RETURN(auto items, reader.RequiredArray("fields"));
  MW_ASSIGN_OR_RETURN(auto fields, FieldsFromJson(items, reader.PathOf("fields")));
  return PartitionSpec(spec_id, std::move(fields));
}

nlohmann::json PartitionFieldsToJson(const PartitionSpec& spec) {
  nlohmann::json fields = nlohmann::json::array();
  for (const PartitionField& field : spec.fields()) {
    fields.push_back({{"name", field.name},
                      {"transform", field.transform.ToString()},
                      {"source-id", field.source_id},
                      {"field-id", field.field_id}});
  }
  return fields;
}

nlohmann::json PartitionSpecToJson(const PartitionSpec& spec) {
  return {{"spec-id", spec.spec_id()}, {"fields", PartitionFieldsToJson(spec)}};
}

Result<SortOrder> SortOrderFromJson(const nlohmann::json& value, const std::string& path) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  SortOrder order;
  MW_ASSIGN_OR_RETURN(order.order_id, reader.RequiredInt("order-id"));
  MW_ASSIGN_OR_RETURN(auto items, reader.RequiredArray("fields"));
  for (size_t index = 0; index < items.size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        auto field_reader,
        json::ObjectReader::Make(*items[index], json::IndexPath(reader.PathOf("fields"), index)));
    SortField field;
    MW_ASSIGN_OR_RETURN(std::string transform, field_reader.RequiredString("transform"));
    auto parsed = Transform::Parse(transform);
    if (!parsed.ok()) {
      return std::move(parsed).error().WithContext(field_reader.PathOf("transform"));
    }
    field.transform = *parsed;
    MW_ASSIGN_OR_RETURN(field.source_id, field_reader.RequiredInt("source-id"));
    MW_ASSIGN_OR_RETURN(std::string direction, field_reader.RequiredString("direction"));
    if (direction != "asc" && direction != "desc") {
      return field_reader.Invalid("direction", "must be 'asc' or 'desc', got '" + direction + "'");
    }
    field.ascending = direction == "asc";
    MW_ASSIGN_OR_RETURN(std::string null_order, field_reader.RequiredString("null-order"));
    if (null_order != "nulls-first" && null_order != "nulls-last") {
      return field_reader.Invalid(
          "null-order", "must be 'nulls-first' or 'nulls-last', got '" + null_order + "'");
    }
    field.nulls_first = null_order == "nulls-first";
    order.fields.push_back(std::move(field));
  }
  if (order.order_id == 0 && !order.fields.empty()) {
    return reader.Invalid("order-id", "order id 0 is reserved for the unsorted order");
  }
  return order;
}

nlohmann::json SortOrderToJson(const SortOrder& order) {
  nlohmann::json fields = nlohmann::json::array();
  for (const SortField& field : order.fields) {
    fields.push_back({{"transform", field.transform.ToString()},
                      {"source-id", field.source_id},
                      {"direction", field.ascending ? "asc" : "desc"},
                      {"null-order", field.nulls_first ? "nulls-first" : "nulls-last"}});
  }
  return {{"order-id", order.order_id}, {"fields", std::move(fields)}};
}

}  // namespace meshwork::iceberg
