# Imports DuckDB's C API (duckdb.h + libduckdb.so) as the target DuckDB::duckdb.
# DUCKDB_ROOT (cache variable or environment) names the folder; scripts/bootstrap.sh fills the
# default one, ${XDG_CACHE_HOME:-~/.cache}/meshwork/duckdb-1.4.4.
if(NOT DUCKDB_ROOT)
  if(DEFINED ENV{DUCKDB_ROOT} AND NOT "$ENV{DUCKDB_ROOT}" STREQUAL "")
    set(_duckdb_default "$ENV{DUCKDB_ROOT}")
  elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(_duckdb_default "$ENV{XDG_CACHE_HOME}/meshwork/duckdb-1.4.4")
  else()
    set(_duckdb_default "$ENV{HOME}/.cache/meshwork/duckdb-1.4.4")
  endif()
  set(DUCKDB_ROOT "${_duckdb_default}" CACHE PATH "Folder with duckdb.h and libduckdb.so")
endif()

find_path(DUCKDB_INCLUDE_DIR duckdb.h PATHS "${DUCKDB_ROOT}" "${DUCKDB_ROOT}/include" NO_DEFAULT_PATH)
find_library(DUCKDB_LIBRARY duckdb PATHS "${DUCKDB_ROOT}" "${DUCKDB_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT DUCKDB_INCLUDE_DIR OR NOT DUCKDB_LIBRARY)
  message(FATAL_ERROR "DuckDB not found in DUCKDB_ROOT=${DUCKDB_ROOT}: it must hold duckdb.h and "
                      "libduckdb.so. Run scripts/bootstrap.sh (or `make build`), or set DUCKDB_ROOT.")
endif()

add_library(DuckDB::duckdb SHARED IMPORTED GLOBAL)
set_target_properties(DuckDB::duckdb PROPERTIES
  IMPORTED_LOCATION "${DUCKDB_LIBRARY}"
  IMPORTED_SONAME "libduckdb.so"
  INTERFACE_INCLUDE_DIRECTORIES "${DUCKDB_INCLUDE_DIR}")
# duckdb.h is a third-party header: keep its warnings out of our -Werror build.
set_property(TARGET DuckDB::duckdb PROPERTY INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${DUCKDB_INCLUDE_DIR}")
message(STATUS "DuckDB: ${DUCKDB_LIBRARY}")
