#include "iceberg/schema_update.h"

#include <algorithm>

namespace meshwork::iceberg {
namespace {

// Fresh ids for every field nested in `type` (the field itself has its id already).
TypePtr AssignFreshIds(const TypePtr& type, int32_t& last_id) {
  if (type->is_primitive()) return type;
  std::vector<NestedField> fields = type->fields();
  for (NestedField& field : fields)
    field.id = ++last_id;
  for (NestedField& field : fields)
    field.type = AssignFreshIds(field.type, last_id);
  switch (type->kind()) {
    case TypeKind::kList:
      return Type::List(fields[0].id, fields[0].type, fields[0].required);
    case TypeKind::kMap:
      return Type::Map(fields[0].id, fields[0].type, fields[1].id, fields[1].type,
                       fields[1].required);
    default:
      return Type::Struct(std::move(fields));
  }
}

// A mutable copy of nested struct fields is needed to edit inside structs; we rebuild the type
// tree on Apply. Fields live in `fields_` (top level); struct members are edited by rebuilding
// their parent's type.
}  // namespace

SchemaUpdate::SchemaUpdate(const Schema& schema, int32_t last_column_id)
    : fields_(schema.fields()),
      identifier_ids_(schema.identifier_field_ids()),
      schema_id_(schema.schema_id()),
      last_column_id_(std::max(last_column_id, schema.HighestFieldId())) {}

void SchemaUpdate::Fail(Status status) {
  if (error_.ok()) error_ = std::move(status);
}

bool SchemaUpdate::Touch(int32_t id, const std::string& name) {
  if (std::find(touched_.begin(), touched_.end(), id) != touched_.end()) {
    Fail(Status::InvalidArgument("column '{}' is changed twice in one schema update", name)
             .WithHint("make one change per column per update"));
    return false;
  }
  touched_.push_back(id);
  return true;
}

NestedField* SchemaUpdate::Find(const std::string& name, std::vector<NestedField>** container) {
  for (NestedField& field : fields_) {
    if (field.name == name) {
      if (container != nullptr) *container = &fields_;
      return &field;
    }
  }
  return nullptr;
}

SchemaUpdate& SchemaUpdate::AddColumn(std::string name, TypePtr type, std::string doc,
                                      std::string parent) {
  if (name.empty() || name.find('.') != std::string::npos) {
    Fail(Status::InvalidArgument("'{}' is not a valid column name", name)
             .WithHint("use a name without dots; nest with the parent argument"));
    return *this;
  }
  NestedField field{++last_column_id_, std::move(name), false, nullptr, std::move(doc)};
  field.type = AssignFreshIds(type, last_column_id_);
  if (parent.empty()) {
    if (Find(field.name, nullptr) != nullptr) {
      Fail(Status::AlreadyExists("column '{}' already exists", field.name)
               .WithHint("choose another name, or rename the existing column first"));
      return *this;
    }
    touched_.push_back(field.id);
    fields_.push_back(std::move(field));
    return *this;
  }
  NestedField* owner = Find(parent, nullptr);
  if (owner == nullptr || owner->type->kind() != TypeKind::kStruct) {
    Fail(Status::NotFound("'{}' is not a struct column of the table", parent));
    return *this;
  }
  if (owner->type->FieldByName(field.name) != nullptr) {
    Fail(Status::AlreadyExists("struct '{}' already has a field '{}'", parent, field.name));
    return *this;
  }
  std::vector<NestedField> members = owner->type->fields();
  members.push_back(std::move(field));
  owner->type = Type::Struct(std::move(members));
  return *this;
}

SchemaUpdate& SchemaUpdate::DeleteColumn(std::string name) {
  std::vector<NestedField>* container = nullptr;
  NestedField* field = Find(name, &container);
  if (field == nullptr) {
    Fail(Status::NotFound("the table has no column '{}'", name));
    return *this;
  }
  if (std::find(identifier_ids_.begin(), identifier_ids_.end(), field->id) !=
      identifier_ids_.end()) {
    Fail(Status::InvalidArgument("cannot drop '{}': it is an identifier field", name)
             .WithHint("remove it from the identifier fields first"));
    return *this;
  }
  if (!Touch(field->id, name)) return *this;
  container->erase(container->begin() + (field - container->data()));
  return *this;
}

SchemaUpdate& SchemaUpdate::RenameColumn(std::string name, std::string new_name) {
  NestedField* field = Find(name, nullptr);
  if (field == nullptr) {
    Fail(Status::NotFound("the table has no column '{}'", name));
    return *this;
  }
  if (new_name.empty() || new_name.find('.') != std::string::npos) {
    Fail(Status::InvalidArgument("'{}' is not a valid column name", new_name));
    return *this;
  }
  if (Find(new_name, nullptr) != nullptr) {
    Fail(Status::AlreadyExists("cannot rename '{}' to '{}': that column exists", name, new_name));
    return *this;
  }
  if (!Touch(field->id, name)) return *this;
  field->name = std::move(new_name);
  return *this;
}

SchemaUpdate& SchemaUpdate::UpdateColumnType(std::string name, TypePtr new_type) {
  NestedField* field = Find(name, nullptr);
  if (field == nullptr) {
    Fail(Status::NotFound("the table has no column '{}'", name));
    return *this;
  }
  if (!IsPromotionAllowed(*field->type, *new_type)) {
    Fail(Status::InvalidArgument("cannot change column '{}' from {} to {}", name,
                                 field->type->ToString(), new_type->ToString())
             .WithHint("allowed: int → long, float → double, decimal(P,S) → decimal(P2,S) with "
                       "P2 > P"));
    return *this;
  }
  if (!Touch(field->id, name)) return *this;
  field->type = std::move(new_type);
  return *this;
}

SchemaUpdate& SchemaUpdate::MakeOptional(std::string name) {
  NestedField* field = Find(name, nullptr);
  if (field == nullptr) {
    Fail(Status::NotFound("the table has no column '{}'", name));
    return *this;
  }
  if (std::find(identifier_ids_.begin(), identifier_ids_.end(), field->id) !=
      identifier_ids_.end()) {
    Fail(Status::InvalidArgument("'{}' is an identifier field and must stay required", name));
    return *this;
  }
  field->required = false;
  return *this;
}

SchemaUpdate& SchemaUpdate::MoveFirst(std::string name) {
  std::vector<NestedField>* container = nullptr;
  NestedField* field = Find(name, &container);
  if (field == nullptr) {
    Fail(Status::NotFound("the table has no column '{}'", name));
    return *this;
  }
  NestedField moved = *field;
  container->erase(container->begin() + (field - container->data()));
  container->insert(container->begin(), std::move(moved));
  return *this;
}

SchemaUpdate& SchemaUpdate::MoveAfter(std::string name, std::string after) {
  std::vector<NestedField>* container = nullptr;
  NestedField* field = Find(name, &container);
  if (field == nullptr || Find(after, nullptr) == nullptr || name == after) {
    Fail(Status::NotFound("cannot move '{}' after '{}': both must be different columns", name,
                          after));
    return *this;
  }
  NestedField moved = *field;
  container->erase(container->begin() + (field - container->data()));
  auto anchor = std::find_if(container->begin(), container->end(),
                             [&](const NestedField& f) { return f.name == after; });
  container->insert(anchor + 1, std::move(moved));
  return *this;
}

Result<std::pair<Schema, int32_t>> SchemaUpdate::Apply() const {
  if (!error_.ok()) return error_;
  MW_ASSIGN_OR_RETURN(Schema schema, Schema::Make(schema_id_ + 1, fields_, identifier_ids_));
  return std::make_pair(std::move(schema), last_column_id_);
}

}  // namespace meshwork::iceberg
