#pragma once
// Forward declarations of DuckDB's opaque C handle structs, so engine headers can hold handles
// without including duckdb.h (5000 lines) into every translation unit that runs a query.

extern "C" {
struct _duckdb_database;
struct _duckdb_connection;
struct _duckdb_prepared_statement;
struct _duckdb_data_chunk;
struct _duckdb_vector;
struct _duckdb_appender;
struct _duckdb_function_info;
}
