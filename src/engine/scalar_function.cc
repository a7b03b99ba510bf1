#include "engine/scalar_function.h"

#include <exception>

#include "engine/internal.h"

namespace meshwork::engine {

void OutputVector::SetNull(uint64_t row) {
  duckdb_vector_ensure_validity_writable(handle_);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(handle_), row);
}

void OutputVector::SetString(uint64_t row, std::string_view value) {
  duckdb_vector_assign_string_element_len(handle_, row, value.data(), value.size());
}

void* OutputVector::Data() {
  if (data_ == nullptr) data_ = duckdb_vector_get_data(handle_);
  return data_;
}

namespace {

// What DuckDB keeps as the function's extra info: the body and the argument types that the
// DataChunk views need. Deleted by DuckDB when the function is dropped.
struct FunctionState {
  ScalarFunctionBody body;
  std::shared_ptr<const std::vector<Type>> parameter_types;
  std::string name;
};

void DeleteFunctionState(void* state) {
  delete static_cast<FunctionState*>(state);
}

void InvokeScalarFunction(duckdb_function_info info, duckdb_data_chunk input,
                          duckdb_vector output) {
  auto* state = static_cast<FunctionState*>(duckdb_scalar_function_get_extra_info(info));
  // Exceptions must not unwind into DuckDB's C frames: turn everything into a query error.
  try {
    DataChunk arguments(input, state->parameter_types, /*owned=*/false);
    OutputVector results(output);
    Status status = state->body(arguments, results);
    if (!status.ok()) {
      duckdb_scalar_function_set_error(info, (state->name + ": " + status.ToString()).c_str());
    }
  } catch (const std::exception& error) {
    duckdb_scalar_function_set_error(info, (state->name + " failed: " + error.what()).c_str());
  } catch (...) {
    duckdb_scalar_function_set_error(info, (state->name + " failed").c_str());
  }
}

struct ScalarFunctionHolder {
  duckdb_scalar_function handle = duckdb_create_scalar_function();
  ~ScalarFunctionHolder() { duckdb_destroy_scalar_function(&handle); }
};

}  // namespace

Status RegisterScalarFunctionImpl(duckdb_connection connection, ScalarFunctionSpec spec) {
  if (spec.name.empty() || !spec.body) {
    return Status::InvalidArgument("a scalar function needs a name and a body");
  }
  ScalarFunctionHolder function;
  duckdb_scalar_function_set_name(function.handle, spec.name.c_str());
  for (const Type& parameter : spec.parameters) {
    MW_ASSIGN_OR_RETURN(duckdb_logical_type logical, LogicalFromType(parameter));
    LogicalTypeHolder holder(logical);
    duckdb_scalar_function_add_parameter(function.handle, logical);
  }
  {
    MW_ASSIGN_OR_RETURN(duckdb_logical_type logical, LogicalFromType(spec.return_type));
    LogicalTypeHolder holder(logical);
    duckdb_scalar_function_set_return_type(function.handle, logical);
  }
  if (spec.is_volatile) duckdb_scalar_function_set_volatile(function.handle);
  if (spec.handles_nulls) duckdb_scalar_function_set_special_handling(function.handle);
  auto* state = new FunctionState{
      std::move(spec.body), std::make_shared<const std::vector<Type>>(spec.parameters), spec.name};
  duckdb_scalar_function_set_extra_info(function.handle, state, DeleteFunctionState);
  duckdb_scalar_function_set_function(function.handle, InvokeScalarFunction);
  if (duckdb_register_scalar_function(connection, function.handle) == DuckDBError) {
    return Status::AlreadyExists(
               "cannot register scalar function {}: a function with this name and these "
               "parameter types exists, or a type is invalid",
               spec.name)
        .WithHint("choose another name or other parameter types");
  }
  return Status::OK();
}

}  // namespace meshwork::engine
