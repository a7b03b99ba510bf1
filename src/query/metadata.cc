#include "query/metadata.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"
#include "common/time.h"
#include "iceberg/json_reader.h"
#include "iceberg/sql_text.h"
#include "product/service.h"

namespace meshwork::query {
namespace {

using iceberg::QuoteString;
using iceberg::json::StringOr;
using nlohmann::json;

// Schemas of the metadata database that stand for PostgreSQL's and the mesh's names (DuckDB
// keeps pg_catalog and information_schema for itself).
constexpr std::string_view kPgSchema = "meshpg";
constexpr std::string_view kInformationSchema = "meshis";
constexpr std::string_view kCatalogSchema = "mesh_catalog";

// OIDs of the objects meshwork itself describes; tables and schemas get stable hashes above.
constexpr int64_t kOwnerOid = 10;
constexpr int64_t kDatabaseOid = 16383;
constexpr int64_t kPgCatalogNamespaceOid = 11;
constexpr int64_t kInformationSchemaNamespaceOid = 13000;
constexpr int64_t kCatalogNamespaceOid = 13001;
constexpr int64_t kPgClassOid = 1259;

// The tables of pg_catalog psql 15, libpq-based tools and JDBC read; columns as PostgreSQL 15
// has them (those clients read).
constexpr std::string_view kSchemaSql = R"sql(
CREATE SCHEMA meshpg; CREATE SCHEMA meshis; CREATE SCHEMA mesh_catalog;
CREATE TABLE meshpg.pg_namespace (oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]);
CREATE TABLE meshpg.pg_class (oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT,
  reloftype BIGINT, relowner BIGINT, relam BIGINT, relfilenode BIGINT, reltablespace BIGINT,
  relpages INTEGER, reltuples DOUBLE, relallvisible INTEGER, reltoastrelid BIGINT,
  relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR, relkind VARCHAR,
  relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN,
  relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN,
  relispopulated BOOLEAN, relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT,
  relfrozenxid BIGINT, relminmxid BIGINT, relacl VARCHAR[], reloptions VARCHAR[],
  relpartbound VARCHAR);
CREATE TABLE meshpg.pg_attribute (attrelid BIGINT, attname VARCHAR, atttypid BIGINT,
  attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER,
  atttypmod INTEGER, attbyval BOOLEAN, attalign VARCHAR, attstorage VARCHAR,
  attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN,
  attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN,
  attinhcount INTEGER, attcollation BIGINT, attacl VARCHAR[], attoptions VARCHAR[],
  attfdwoptions VARCHAR[], attmissingval VARCHAR);
CREATE TABLE meshpg.pg_type (oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT,
  typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN,
  typisdefined BOOLEAN, typdelim VARCHAR, typrelid BIGINT, typelem BIGINT, typarray BIGINT,
  typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR, typnotnull BOOLEAN,
  typbasetype BIGINT, typtypmod INTEGER, typndims INTEGER, typcollation BIGINT,
  typdefault VARCHAR, mesh_display VARCHAR);
CREATE TABLE meshpg.pg_description (objoid BIGINT, classoid BIGINT, objsubid INTEGER,
  description VARCHAR);
CREATE TABLE meshpg.pg_database (oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER,
  datlocprovider VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER,
  datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR, datacl VARCHAR[],
  dattablespace BIGINT);
CREATE TABLE meshpg.pg_roles (oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN,
  rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN,
  rolconnlimit INTEGER, rolpassword VARCHAR, rolvaliduntil TIMESTAMP, rolbypassrls BOOLEAN,
  rolconfig VARCHAR[]);
CREATE TABLE meshpg.pg_am (oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR);
CREATE TABLE meshpg.pg_attrdef (oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR);
CREATE TABLE meshpg.pg_collation (oid BIGINT, collname VARCHAR, collnamespace BIGINT,
  collowner BIGINT, collprovider VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER,
  collcollate VARCHAR, collctype VARCHAR);
CREATE TABLE meshpg.pg_policy (oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR,
  polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR);
CREATE TABLE meshpg.pg_statistic_ext (oid BIGINT, stxrelid BIGINT, stxname VARCHAR,
  stxnamespace BIGINT, stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[],
  stxkind VARCHAR[]);
CREATE TABLE meshpg.pg_publication (oid BIGINT, pubname VARCHAR, pubowner BIGINT,
  puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN,
  pubtruncate BOOLEAN, pubviaroot BOOLEAN);
CREATE TABLE meshpg.pg_publication_namespace (oid BIGINT, pnpubid BIGINT, pnnspid BIGINT);
CREATE TABLE meshpg.pg_publication_rel (oid BIGINT, prpubid BIGINT, prrelid BIGINT,
  prqual VARCHAR, prattrs SMALLINT[]);
CREATE TABLE meshpg.pg_inherits (inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER,
  inhdetachpending BOOLEAN);
CREATE TABLE meshpg.pg_index (indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT,
  indisunique BOOLEAN, indisprimary BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN,
  indkey SMALLINT[], indexprs VARCHAR, indpred VARCHAR);
CREATE TABLE meshpg.pg_constraint (oid BIGINT, conname VARCHAR, connamespace BIGINT,
  contype VARCHAR, conrelid BIGINT, confrelid BIGINT, conkey SMALLINT[], confkey SMALLINT[],
  conbin VARCHAR, condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN);
CREATE TABLE meshpg.pg_trigger (oid BIGINT, tgrelid BIGINT, tgname VARCHAR, tgenabled VARCHAR,
  tgisinternal BOOLEAN);
CREATE TABLE meshpg.pg_rewrite (oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR);
CREATE TABLE meshpg.pg_proc (oid BIGINT, proname VARCHAR, pronamespace BIGINT, prorettype BIGINT,
  prokind VARCHAR, proargtypes BIGINT[]);
CREATE TABLE meshpg.pg_tablespace (oid BIGINT, spcname VARCHAR, spcowner BIGINT);
CREATE TABLE meshpg.pg_extension (oid BIGINT, extname VARCHAR, extowner BIGINT,
  extnamespace BIGINT, extversion VARCHAR);
CREATE TABLE meshpg.pg_settings (name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR,
  short_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR);
CREATE TABLE meshpg.pg_user (usename VARCHAR, usesysid BIGINT, usecreatedb BOOLEAN,
  usesuper BOOLEAN, userepl BOOLEAN, usebypassrls BOOLEAN, passwd VARCHAR, valuntil TIMESTAMP,
  useconfig VARCHAR[]);
CREATE VIEW meshpg.pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename,
  'meshwork' AS tableowner, NULL::VARCHAR AS tablespace, false AS hasindexes, false AS hasrules,
  false AS hastriggers, false AS rowsecurity
  FROM meshpg.pg_class c JOIN meshpg.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p');
CREATE VIEW meshpg.pg_views AS SELECT n.nspname AS schemaname, c.relname AS viewname,
  'meshwork' AS viewowner, NULL::VARCHAR AS definition
  FROM meshpg.pg_class c JOIN meshpg.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'v';
CREATE VIEW meshpg.pg_matviews AS SELECT * FROM meshpg.pg_views WHERE false;
CREATE VIEW meshpg.pg_indexes AS SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS tablename,
  NULL::VARCHAR AS indexname, NULL::VARCHAR AS tablespace, NULL::VARCHAR AS indexdef WHERE false;

CREATE TABLE meshis.schemata (catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR,
  default_character_set_catalog VARCHAR, default_character_set_schema VARCHAR,
  default_character_set_name VARCHAR, sql_path VARCHAR);
CREATE TABLE meshis.tables (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR,
  table_type VARCHAR, self_referencing_column_name VARCHAR, reference_generation VARCHAR,
  user_defined_type_catalog VARCHAR, user_defined_type_schema VARCHAR,
  user_defined_type_name VARCHAR, is_insertable_into VARCHAR, is_typed VARCHAR,
  commit_action VARCHAR, table_comment VARCHAR);
CREATE TABLE meshis.columns (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR,
  column_name VARCHAR, ordinal_position INTEGER, column_default VARCHAR, is_nullable VARCHAR,
  data_type VARCHAR, character_maximum_length INTEGER, character_octet_length INTEGER,
  numeric_precision INTEGER, numeric_precision_radix INTEGER, numeric_scale INTEGER,
  datetime_precision INTEGER, interval_type VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR,
  udt_name VARCHAR, is_identity VARCHAR, is_generated VARCHAR, is_updatable VARCHAR,
  column_comment VARCHAR, classification VARCHAR);
CREATE TABLE meshis.views (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR,
  view_definition VARCHAR, check_option VARCHAR, is_updatable VARCHAR);
CREATE VIEW meshis.key_column_usage AS SELECT NULL::VARCHAR AS constraint_catalog,
  NULL::VARCHAR AS constraint_schema, NULL::VARCHAR AS constraint_name,
  NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
  NULL::VARCHAR AS column_name, NULL::INTEGER AS ordinal_position WHERE false;
CREATE VIEW meshis.table_constraints AS SELECT NULL::VARCHAR AS constraint_catalog,
  NULL::VARCHAR AS constraint_schema, NULL::VARCHAR AS constraint_name,
  NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
  NULL::VARCHAR AS constraint_type WHERE false;

CREATE TABLE mesh_catalog.domains (name VARCHAR, description VARCHAR, owner VARCHAR,
  owner_role VARCHAR, consumer_role VARCHAR, products INTEGER, created_at TIMESTAMP);
CREATE TABLE mesh_catalog.products (domain VARCHAR, name VARCHAR, major INTEGER,
  version VARCHAR, title VARCHAR, description VARCHAR, owner VARCHAR, state VARCHAR,
  sunset VARCHAR, freshness VARCHAR, schedule VARCHAR, tags VARCHAR[], published_by VARCHAR,
  published_at TIMESTAMP, deploys BIGINT);
CREATE TABLE mesh_catalog.ports (domain VARCHAR, product VARCHAR, port VARCHAR,
  table_name VARCHAR, description VARCHAR, version VARCHAR, major INTEGER, snapshot_id BIGINT,
  records BIGINT, partitioning VARCHAR);
CREATE TABLE mesh_catalog.columns (domain VARCHAR, table_name VARCHAR, column_name VARCHAR,
  ordinal_position INTEGER, type VARCHAR, nullable BOOLEAN, description VARCHAR,
  classification VARCHAR, semantic_type VARCHAR, primary_key BOOLEAN);
CREATE TABLE mesh_catalog.versions (domain VARCHAR, product VARCHAR, version VARCHAR,
  major INTEGER, action VARCHAR, happened_at TIMESTAMP, actor VARCHAR, summary VARCHAR,
  quality_passed BIGINT, quality_total BIGINT);
CREATE TABLE mesh_catalog.audit (id BIGINT, happened_at TIMESTAMP, principal VARCHAR,
  request_id VARCHAR, channel VARCHAR, operation VARCHAR, securables VARCHAR[],
  allowed BOOLEAN, reason VARCHAR, policies VARCHAR[], fingerprint VARCHAR,
  rows_returned BIGINT, details VARCHAR);
)sql";

// PostgreSQL's functions, as macros in the metadata database (no access to anything else).
constexpr std::string_view kFunctionsSql = R"sql(
CREATE MACRO meshpg.pg_get_userbyid(role_oid) AS 'meshwork';
CREATE MACRO meshpg.format_type(type_oid, type_modifier) AS (
  SELECT CASE
    WHEN t.typname = 'numeric' AND type_modifier >= 4 THEN
      'numeric(' || ((type_modifier - 4) >> 16) || ',' || ((type_modifier - 4) & 65535) || ')'
    WHEN t.typname IN ('varchar', 'bpchar') AND type_modifier >= 4 THEN
      t.mesh_display || '(' || (type_modifier - 4) || ')'
    ELSE t.mesh_display END
  FROM meshpg.pg_type t WHERE t.oid = type_oid);
CREATE MACRO meshpg.pg_get_expr(expression, relation) AS NULL::VARCHAR, (expression, relation, pretty) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_table_is_visible(relation) AS true;
CREATE MACRO meshpg.pg_type_is_visible(type_oid) AS true;
CREATE MACRO meshpg.pg_function_is_visible(function_oid) AS true;
CREATE MACRO meshpg.pg_relation_is_publishable(relation) AS false;
CREATE MACRO meshpg.pg_get_statisticsobjdef_columns(statistics) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_get_indexdef(index_oid) AS NULL::VARCHAR, (index_oid, column_number, pretty) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_get_constraintdef(constraint_oid) AS NULL::VARCHAR, (constraint_oid, pretty) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_get_viewdef(view_oid) AS NULL::VARCHAR, (view_oid, pretty) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_get_triggerdef(trigger_oid) AS NULL::VARCHAR;
CREATE MACRO meshpg.pg_encoding_to_char(encoding_id) AS 'UTF8';
CREATE MACRO meshpg.pg_tablespace_location(tablespace) AS '';
CREATE MACRO meshpg.obj_description(object_oid) AS (
  SELECT first(d.description) FROM meshpg.pg_description d
  WHERE d.objoid = object_oid AND d.objsubid = 0), (object_oid, catalog_name) AS (
  SELECT first(d.description) FROM meshpg.pg_description d
  WHERE d.objoid = object_oid AND d.objsubid = 0);
CREATE MACRO meshpg.shobj_description(object_oid, catalog_name) AS NULL::VARCHAR;
CREATE MACRO meshpg.col_description(relation, column_number) AS (
  SELECT first(d.description) FROM meshpg.pg_description d
  WHERE d.objoid = relation AND d.objsubid = column_number);
CREATE MACRO meshpg.has_table_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO meshpg.has_schema_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO meshpg.has_database_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO meshpg.pg_has_role(a, b) AS true, (a, b, c) AS true;
CREATE MACRO meshpg.pg_is_in_recovery() AS false;
CREATE MACRO meshpg.pg_postmaster_start_time() AS TIMESTAMPTZ '2026-01-01 00:00:00+00';
CREATE MACRO meshpg.pg_total_relation_size(relation) AS 0::BIGINT;
CREATE MACRO meshpg.pg_relation_size(relation) AS 0::BIGINT;
CREATE MACRO meshpg.pg_size_pretty(bytes) AS bytes::VARCHAR || ' bytes';
CREATE MACRO meshpg.array_upper(items, dimension) AS len(items);
CREATE MACRO meshpg.regclass_out(relation) AS coalesce(
  (SELECT first(relname) FROM meshpg.pg_class WHERE oid = TRY_CAST(relation AS BIGINT)),
  relation::VARCHAR);
CREATE MACRO meshpg.regtype_out(type_oid) AS coalesce(
  (SELECT first(mesh_display) FROM meshpg.pg_type WHERE oid = TRY_CAST(type_oid AS BIGINT)),
  type_oid::VARCHAR);
CREATE MACRO meshpg.regnamespace_out(namespace_oid) AS coalesce(
  (SELECT first(nspname) FROM meshpg.pg_namespace
   WHERE oid = TRY_CAST(namespace_oid AS BIGINT)), namespace_oid::VARCHAR);
)sql";

// PostgreSQL types: oid, name, length, category, array oid, how format_type shows it.
struct PgType {
  int64_t oid;
  std::string_view name;
  int length;
  std::string_view category;
  int64_t array;
  std::string_view display;
};
constexpr PgType kPgTypes[] = {
    {16, "bool", 1, "B", 1000, "boolean"},
    {17, "bytea", -1, "U", 1001, "bytea"},
    {18, "char", 1, "S", 1002, "\"char\""},
    {19, "name", 64, "S", 1003, "name"},
    {20, "int8", 8, "N", 1016, "bigint"},
    {21, "int2", 2, "N", 1005, "smallint"},
    {23, "int4", 4, "N", 1007, "integer"},
    {25, "text", -1, "S", 1009, "text"},
    {26, "oid", 4, "N", 1028, "oid"},
    {114, "json", -1, "U", 199, "json"},
    {700, "float4", 4, "N", 1021, "real"},
    {701, "float8", 8, "N", 1022, "double precision"},
    {705, "unknown", -2, "X", 0, "unknown"},
    {1042, "bpchar", -1, "S", 1014, "character"},
    {1043, "varchar", -1, "S", 1015, "character varying"},
    {1082, "date", 4, "D", 1182, "date"},
    {1083, "time", 8, "D", 1183, "time without time zone"},
    {1114, "timestamp", 8, "D", 1115, "timestamp without time zone"},
    {1184, "timestamptz", 8, "D", 1185, "timestamp with time zone"},
    {1186, "interval", 16, "T", 1187, "interval"},
    {1700, "numeric", -1, "N", 1231, "numeric"},
    {2205, "regclass", 4, "N", 2210, "regclass"},
    {2206, "regtype", 4, "N", 2211, "regtype"},
    {2249, "record", -1, "P", 2287, "record"},
    {2278, "void", 4, "P", 0, "void"},
    {2950, "uuid", 16, "U", 2951, "uuid"},
    {3802, "jsonb", -1, "U", 3807, "jsonb"},
    {1000, "_bool", -1, "A", 0, "boolean[]"},
    {1005, "_int2", -1, "A", 0, "smallint[]"},
    {1007, "_int4", -1, "A", 0, "integer[]"},
    {1009, "_text", -1, "A", 0, "text[]"},
    {1015, "_varchar", -1, "A", 0, "character varying[]"},
    {1016, "_int8", -1, "A", 0, "bigint[]"},
    {1021, "_float4", -1, "A", 0, "real[]"},
    {1022, "_float8", -1, "A", 0, "double precision[]"},
};

// A stable OID for a mesh object: the same across sessions and servers, above PostgreSQL's
// reserved range.
int64_t StableOid(std::string_view kind, std::string_view name) {
  uint32_t hash = 2166136261u;
  for (const char c : kind)
    hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  hash = (hash ^ ':') * 16777619u;
  for (const char c : name)
    hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return 16384 + static_cast<int64_t>(hash % 2000000000u);
}

struct PgColumnType {
  int64_t oid;
  int32_t modifier = -1;
  std::string information_schema_name;
  int precision = 0, scale = 0;
};

PgColumnType PostgresTypeOf(const iceberg::Type& type) {
  using iceberg::TypeKind;
  switch (type.kind()) {
    case TypeKind::kBoolean:
      return {16, -1, "boolean"};
    case TypeKind::kInt:
      return {23, -1, "integer", 32};
    case TypeKind::kLong:
      return {20, -1, "bigint", 64};
    case TypeKind::kFloat:
      return {700, -1, "real", 24};
    case TypeKind::kDouble:
      return {701, -1, "double precision", 53};
    case TypeKind::kDecimal:
      return {1700, ((type.precision() << 16) | type.scale()) + 4, "numeric", type.precision(),
              type.scale()};
    case TypeKind::kDate:
      return {1082, -1, "date"};
    case TypeKind::kTime:
      return {1083, -1, "time without time zone"};
    case TypeKind::kTimestamp:
      return {1114, -1, "timestamp without time zone"};
    case TypeKind::kTimestampTz:
      return {1184, -1, "timestamp with time zone"};
    case TypeKind::kString:
      return {25, -1, "text"};
    case TypeKind::kUuid:
      return {2950, -1, "uuid"};
    case TypeKind::kFixed:
    case TypeKind::kBinary:
      return {17, -1, "bytea"};
    default:
      return {25, -1, "text"};  // struct, list, map: shown as their text form
  }
}

// Rows for one table, as SQL value lists.
class Rows {
 public:
  void Add(std::initializer_list<std::string> values) {
    std::string row = "(";
    for (const auto& value : values) {
      if (row.size() > 1) row += ", ";
      row += value;
    }
    rows_.push_back(row + ")");
  }
  Status InsertInto(engine::Connection& connection, std::string_view table) const {
    for (size_t start = 0; start < rows_.size(); start += 500) {
      std::string sql = fmt::format("INSERT INTO {} VALUES ", table);
      for (size_t i = start; i < std::min(rows_.size(), start + 500); ++i)
        sql += (i == start ? "" : ", ") + rows_[i];
      MW_RETURN_IF_ERROR(connection.Execute(sql));
    }
    return Status::OK();
  }

 private:
  std::vector<std::string> rows_;
};

std::string Q(std::string_view value) {
  return QuoteString(value);
}
std::string QOrNull(std::string_view value) {
  return value.empty() ? "NULL" : QuoteString(value);
}
std::string Timestamp(int64_t millis) {
  return millis <= 0 ? "NULL" : fmt::format("make_timestamp({}::BIGINT)", millis * 1000);
}

// What mesh.catalog and the column docs say about products, by table ("domain.table").
struct ProductFacts {
  std::map<std::string, const product::Column*> columns;  // "domain.table.column"
  std::map<std::string, std::string> table_docs;          // "domain.table"
};

}  // namespace

bool IsAuditTable(const TableReference& table) {
  const std::string schema = text::ToLower(table.schema);
  return (schema == "catalog" || schema == "mesh") && text::ToLower(table.table) == "audit";
}

bool IsMetadataTable(const TableReference& table) {
  const std::string schema = text::ToLower(table.schema);
  if (schema == "pg_catalog" || schema == "information_schema" || schema == "catalog") {
    return true;
  }
  if (IsAuditTable(table)) return true;
  return schema.empty() && text::ToLower(table.table).starts_with("pg_");
}

std::string NormalizePostgresSpellings(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  const auto starts = [&](size_t at, std::string_view word) {
    if (at + word.size() > sql.size()) return false;
    for (size_t k = 0; k < word.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(sql[at + k])) != word[k]) return false;
    }
    return true;
  };
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // literal or quoted name: copied untouched
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      j = std::min(j + 1, sql.size());
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t j = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (starts(i, "operator(pg_catalog.") &&
               (i == 0 ||
                !(std::isalnum(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == '_'))) {
      const size_t close = sql.find(')', i);
      if (close == std::string_view::npos) {
        out += c;
        ++i;
        continue;
      }
      const size_t begin = i + std::string_view("operator(pg_catalog.").size();
      out += ' ';
      out.append(sql.substr(begin, close - begin));
      out += ' ';
      i = close + 1;
    } else if (c == ':' && starts(i, "::pg_catalog.")) {
      out += "::";
      i += std::string_view("::pg_catalog.").size();
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

namespace {

const std::set<std::string>& MetadataFunctions() {
  static const std::set<std::string> kNames = {"pg_get_userbyid",
                                               "format_type",
                                               "pg_get_expr",
                                               "pg_table_is_visible",
                                               "pg_type_is_visible",
                                               "pg_function_is_visible",
                                               "pg_relation_is_publishable",
                                               "pg_get_statisticsobjdef_columns",
                                               "pg_get_indexdef",
                                               "pg_get_constraintdef",
                                               "pg_get_viewdef",
                                               "pg_get_triggerdef",
                                               "pg_encoding_to_char",
                                               "pg_tablespace_location",
                                               "obj_description",
                                               "shobj_description",
                                               "col_description",
                                               "has_table_privilege",
                                               "has_schema_privilege",
                                               "has_database_privilege",
                                               "pg_has_role",
                                               "pg_is_in_recovery",
                                               "pg_postmaster_start_time",
                                               "pg_total_relation_size",
                                               "pg_relation_size",
                                               "pg_size_pretty",
                                               "array_upper",
                                               "version",
                                               "current_database",
                                               "current_user"};
  return kNames;
}

json FunctionCall(std::string schema, std::string name, json children, const json& like) {
  return json{{"class", "FUNCTION"},
              {"type", "FUNCTION"},
              {"alias", like.value("alias", "")},
              {"query_location", like.value("query_location", json(18446744073709551615ull))},
              {"function_name", std::move(name)},
              {"schema", std::move(schema)},
              {"children", std::move(children)},
              {"filter", nullptr},
              {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", json::array()}}},
              {"distinct", false},
              {"is_operator", false},
              {"export_state", false},
              {"catalog", ""}};
}

}  // namespace

void RewriteMetadataQuery(json& value) {
  if (value.is_array()) {
    for (auto& item : value)
      RewriteMetadataQuery(item);
    return;
  }
  if (!value.is_object()) return;
  const std::string type = StringOr(value, "type", "");
  const std::string kind = StringOr(value, "class", "");
  if (type == "BASE_TABLE") {
    const std::string schema = text::ToLower(StringOr(value, "schema_name", ""));
    const std::string table = text::ToLower(StringOr(value, "table_name", ""));
    std::string target;
    if (schema == "pg_catalog" || (schema.empty() && table.starts_with("pg_"))) {
      target = kPgSchema;
    } else if (schema == "information_schema") {
      target = kInformationSchema;
    } else if (schema == "catalog" || (schema == "mesh" && table == "audit")) {
      target = kCatalogSchema;
    }
    if (!target.empty()) {
      value["catalog_name"] = "";
      value["schema_name"] = target;
      value["table_name"] = table;
    }
    return;
  }
  // PostgreSQL names the single column of a function in FROM by its alias:
  // generate_series(1, 3) AS s gives a column s.
  if (type == "TABLE_FUNCTION" && value.contains("function") && value["function"].is_object() &&
      text::ToLower(StringOr(value["function"], "schema", "")) == "pg_catalog") {
    value["function"]["schema"] = "";
  }
  if (type == "TABLE_FUNCTION" && !StringOr(value, "alias", "").empty() &&
      value.value("column_name_alias", json::array()).empty()) {
    value["column_name_alias"] = json::array({value["alias"]});
  }
  if (kind == "FUNCTION") {
    const std::string schema = text::ToLower(StringOr(value, "schema", ""));
    const std::string name = text::ToLower(StringOr(value, "function_name", ""));
    if (schema == "pg_catalog" || schema.empty()) {
      if (MetadataFunctions().contains(name)) {
        value["schema"] = kPgSchema;
        // The result column is named like the function, as in PostgreSQL.
        if (StringOr(value, "alias", "").empty()) value["alias"] = name;
      } else if (schema == "pg_catalog") {
        value["schema"] = "";  // DuckDB's own function of that name
      }
      // PostgreSQL's ~ family matches anywhere in the string (DuckDB's ~ is a full match).
      if (name == "regexp_full_match" && value.contains("children"))
        value["function_name"] = "regexp_matches";
    }
  } else if (kind == "COLLATE" && value.contains("child")) {
    const std::string collation = text::ToLower(StringOr(value, "collation", ""));
    if (collation == "pg_catalog.default" || collation == "default" || collation == "c" ||
        collation == "pg_catalog.\"c\"") {
      json child = value["child"];
      value = std::move(child);
      RewriteMetadataQuery(value);
      return;
    }
  } else if (kind == "CAST" && value.contains("cast_type") && value.contains("child")) {
    const json& cast = value["cast_type"];
    if (StringOr(cast, "id", "") == "USER" && cast.contains("type_info") &&
        cast["type_info"].is_object()) {
      const std::string name = text::ToLower(StringOr(cast["type_info"], "user_type_name", ""));
      std::string function;
      if (name == "regclass") function = "regclass_out";
      if (name == "regtype") function = "regtype_out";
      if (name == "regnamespace") function = "regnamespace_out";
      if (!function.empty()) {
        json child = value["child"];
        RewriteMetadataQuery(child);
        value =
            FunctionCall(std::string(kPgSchema), function, json::array({std::move(child)}), value);
        return;
      }
      if (name == "oid" || name == "regproc" || name == "xid") {
        value["cast_type"] = json{{"id", "BIGINT"}, {"type_info", nullptr}};
      }
    }
  }
  for (auto& [key, child] : value.items()) {
    if (child.is_structured()) RewriteMetadataQuery(child);
  }
}

Result<std::unique_ptr<MetadataDatabase>> MetadataDatabase::Build(catalog::Catalog& catalog,
                                                                  product::ProductService* products,
                                                                  const catalog::Caller& caller,
                                                                  const std::string& mesh_name) {
  MW_ASSIGN_OR_RETURN(auto database, engine::Database::Open({.threads = 1, .lock_down = true}));
  MW_ASSIGN_OR_RETURN(auto connection, database.Connect());
  std::unique_ptr<MetadataDatabase> out(
      new MetadataDatabase(std::move(database), std::move(connection)));
  engine::Connection& sql = out->connection_;
  MW_RETURN_IF_ERROR(sql.Execute(kSchemaSql));
  MW_RETURN_IF_ERROR(sql.Execute(kFunctionsSql));
  MW_RETURN_IF_ERROR(sql.Execute(fmt::format(
      "CREATE MACRO meshpg.version() AS {}; CREATE MACRO meshpg.current_database() AS {}; "
      "CREATE MACRO meshpg.current_user() AS {};",
      Q("PostgreSQL 15.0 (meshwork; DuckDB " + engine::LibraryVersion() + ")"), Q(mesh_name),
      Q(caller.principal))));

  Rows namespaces, classes, attributes, types, descriptions, schemata, tables, columns;
  Rows domains_rows, products_rows, ports_rows, catalog_columns, versions_rows;
  for (const PgType& type : kPgTypes) {
    types.Add({std::to_string(type.oid),
               Q(type.name),
               std::to_string(kPgCatalogNamespaceOid),
               std::to_string(kOwnerOid),
               std::to_string(type.length),
               type.length > 0 && type.length <= 8 ? "true" : "false",
               Q(type.category == "A" ? "b" : (type.category == "P" ? "p" : "b")),
               Q(type.category),
               "false",
               "true",
               "','",
               "0",
               "0",
               std::to_string(type.array),
               Q(std::string(type.name) + "in"),
               Q(std::string(type.name) + "out"),
               Q(std::string(type.name) + "recv"),
               Q(std::string(type.name) + "send"),
               "false",
               "0",
               "-1",
               "0",
               type.category == "S" ? "100" : "0",
               "NULL",
               Q(type.display)});
  }
  namespaces.Add(
      {std::to_string(kPgCatalogNamespaceOid), "'pg_catalog'", std::to_string(kOwnerOid), "NULL"});
  namespaces.Add({std::to_string(kInformationSchemaNamespaceOid), "'information_schema'",
                  std::to_string(kOwnerOid), "NULL"});
  namespaces.Add(
      {std::to_string(kCatalogNamespaceOid), "'catalog'", std::to_string(kOwnerOid), "NULL"});
  for (const char* schema : {"pg_catalog", "information_schema", "catalog"}) {
    schemata.Add({Q(mesh_name), Q(schema), "'meshwork'", "NULL", "NULL", "'UTF8'", "NULL"});
  }

  // What the product registry knows: docs, classifications, owners, versions.
  ProductFacts facts;
  std::vector<product::ProductRecord> records;
  std::vector<product::DataProductSpec> specs;
  if (products != nullptr) {
    auto listed = products->ListProducts(caller);
    if (listed.ok()) records = std::move(*listed);
    specs.reserve(records.size());
    for (const auto& record : records) {
      auto spec = record.Spec();
      specs.push_back(spec.ok() ? std::move(*spec) : product::DataProductSpec{});
    }
    for (size_t r = 0; r < records.size(); ++r) {
      const auto& record = records[r];
      const auto& spec = specs[r];
      for (const auto& published : record.ports) {
        const std::string table = published.table;
        for (const auto& port : spec.ports) {
          if (port.name != published.port) continue;
          if (!port.description.empty()) facts.table_docs[table] = port.description;
          for (const auto& column : port.columns)
            facts.columns[table + "." + column.name] = &column;
          ports_rows.Add({Q(record.domain), Q(record.name), Q(port.name), Q(table),
                          QOrNull(port.description), Q(record.version),
                          std::to_string(record.major), std::to_string(published.snapshot_id),
                          std::to_string(published.records), QOrNull(port.partitioning)});
        }
      }
      std::string tags = "[";
      for (const auto& tag : spec.tags)
        tags += (tags.size() > 1 ? ", " : "") + Q(tag);
      products_rows.Add({Q(record.domain), Q(record.name), std::to_string(record.major),
                         Q(record.version), QOrNull(spec.title), QOrNull(spec.description),
                         QOrNull(spec.owner.email.empty() ? spec.owner.team : spec.owner.email),
                         Q(record.state), QOrNull(record.sunset), QOrNull(spec.sla.freshness),
                         QOrNull(spec.sla.schedule), tags + "]", QOrNull(record.published_by),
                         Timestamp(record.published_at_ms), std::to_string(record.deploys)});
      auto history = products->History(caller, record.domain, record.name);
      if (history.ok()) {
        for (const auto& entry : *history) {
          versions_rows.Add(
              {Q(record.domain), Q(record.name), Q(entry.version), std::to_string(entry.major),
               Q(entry.action), Timestamp(entry.at_ms), QOrNull(entry.by), QOrNull(entry.summary),
               std::to_string(entry.quality_passed), std::to_string(entry.quality_total)});
        }
      }
    }
    auto domains = products->ListDomains(caller);
    if (domains.ok()) {
      for (const auto& domain : *domains) {
        int count = 0;
        for (const auto& record : records)
          count += record.domain == domain.name ? 1 : 0;
        domains_rows.Add({Q(domain.name), QOrNull(domain.description), QOrNull(domain.owner),
                          Q(domain.owner_role), Q(domain.consumer_role), std::to_string(count),
                          Timestamp(domain.created_at_ms)});
      }
    }
  }

  // Every namespace and table the caller may see, with its current schema.
  metastore::PageRequest page;
  std::vector<metastore::NamespaceRecord> listed_namespaces;
  do {
    MW_ASSIGN_OR_RETURN(auto listed, catalog.ListNamespaces(caller, {}, page));
    for (auto& item : listed.items)
      listed_namespaces.push_back(std::move(item));
    page.token = listed.next_token;
  } while (!page.token.empty());
  for (const auto& space : listed_namespaces) {
    if (space.levels.size() != 1) continue;
    const std::string& domain = space.levels[0];
    const int64_t namespace_oid = StableOid("namespace", domain);
    namespaces.Add({std::to_string(namespace_oid), Q(domain), std::to_string(kOwnerOid), "NULL"});
    schemata.Add({Q(mesh_name), Q(domain), "'meshwork'", "NULL", "NULL", "'UTF8'", "NULL"});
    if (auto comment = space.properties.find("comment"); comment != space.properties.end()) {
      descriptions.Add({std::to_string(namespace_oid), "2615", "0", Q(comment->second)});
    }
    metastore::PageRequest table_page;
    do {
      auto listed = catalog.ListTables(caller, space.levels, table_page);
      if (!listed.ok()) break;  // a namespace the caller sees but cannot list: skip it
      for (const std::string& name : listed->items) {
        auto table = catalog.LoadTable(caller, {space.levels, name});
        if (!table.ok()) continue;
        const std::string qualified = domain + "." + name;
        const int64_t oid = StableOid("table", qualified);
        const iceberg::Schema& schema = table->metadata.CurrentSchema();
        classes.Add({std::to_string(oid),
                     Q(name),
                     std::to_string(namespace_oid),
                     "0",
                     "0",
                     std::to_string(kOwnerOid),
                     "2",
                     std::to_string(oid),
                     "0",
                     "0",
                     "-1",
                     "0",
                     "0",
                     "false",
                     "false",
                     "'p'",
                     "'r'",
                     std::to_string(schema.fields().size()),
                     "0",
                     "false",
                     "false",
                     "false",
                     "false",
                     "false",
                     "true",
                     "'d'",
                     "false",
                     "0",
                     "0",
                     "0",
                     "NULL",
                     "NULL",
                     "NULL"});
        std::string table_doc = facts.table_docs.contains(qualified)
                                    ? facts.table_docs[qualified]
                                    : (table->metadata.properties.contains("comment")
                                           ? table->metadata.properties.at("comment")
                                           : "");
        if (!table_doc.empty()) {
          descriptions.Add({std::to_string(oid), std::to_string(kPgClassOid), "0", Q(table_doc)});
        }
        tables.Add({Q(mesh_name), Q(domain), Q(name), "'BASE TABLE'", "NULL", "NULL", "NULL",
                    "NULL", "NULL", "'NO'", "'NO'", "NULL", QOrNull(table_doc)});
        int position = 0;
        for (const auto& field : schema.fields()) {
          ++position;
          const PgColumnType pg = PostgresTypeOf(*field.type);
          const auto found = facts.columns.find(qualified + "." + field.name);
          const product::Column* column = found == facts.columns.end() ? nullptr : found->second;
          const std::string doc =
              !field.doc.empty() ? field.doc : (column ? column->description : "");
          const std::string classification = column ? column->classification : "";
          attributes.Add({std::to_string(oid),
                          Q(field.name),
                          std::to_string(pg.oid),
                          "-1",
                          "-1",
                          std::to_string(position),
                          "0",
                          "-1",
                          std::to_string(pg.modifier),
                          "false",
                          "'i'",
                          "'x'",
                          "''",
                          field.required ? "true" : "false",
                          "false",
                          "false",
                          "''",
                          "''",
                          "false",
                          "true",
                          "0",
                          pg.oid == 25 ? "100" : "0",
                          "NULL",
                          "NULL",
                          "NULL",
                          "NULL"});
          if (!doc.empty()) {
            descriptions.Add({std::to_string(oid), std::to_string(kPgClassOid),
                              std::to_string(position), Q(doc)});
          }
          const auto udt = std::find_if(std::begin(kPgTypes), std::end(kPgTypes),
                                        [&](const PgType& t) { return t.oid == pg.oid; });
          columns.Add({Q(mesh_name),
                       Q(domain),
                       Q(name),
                       Q(field.name),
                       std::to_string(position),
                       "NULL",
                       field.required ? "'NO'" : "'YES'",
                       Q(pg.information_schema_name),
                       "NULL",
                       "NULL",
                       pg.precision ? std::to_string(pg.precision) : "NULL",
                       pg.precision ? (pg.oid == 1700 ? "10" : "2") : "NULL",
                       pg.oid == 1700 ? std::to_string(pg.scale) : (pg.precision ? "0" : "NULL"),
                       "NULL",
                       "NULL",
                       Q(mesh_name),
                       "'pg_catalog'",
                       udt == std::end(kPgTypes) ? "NULL" : Q(udt->name),
                       "'NO'",
                       "'NEVER'",
                       "'NO'",
                       QOrNull(doc),
                       QOrNull(classification)});
          catalog_columns.Add({Q(domain), Q(name), Q(field.name), std::to_string(position),
                               Q(field.type->ToString()), field.required ? "false" : "true",
                               QOrNull(doc), QOrNull(classification),
                               QOrNull(column ? column->semantic_type : ""),
                               column && column->primary_key ? "true" : "false"});
        }
      }
      table_page.token = listed->next_token;
    } while (!table_page.token.empty());
  }

  Rows databases, roles, access_methods, collations, settings, users;
  databases.Add({std::to_string(kDatabaseOid), Q(mesh_name), std::to_string(kOwnerOid), "6", "'c'",
                 "false", "true", "-1", "'C.UTF-8'", "'C.UTF-8'", "NULL", "NULL", "1663"});
  roles.Add({std::to_string(kOwnerOid), "'meshwork'", "false", "true", "false", "false", "false",
             "false", "-1", "'********'", "NULL", "false", "NULL"});
  if (caller.principal != "meshwork") {
    roles.Add({std::to_string(StableOid("role", caller.principal)), Q(caller.principal),
               caller.is_root ? "true" : "false", "true", "false", "false", "true", "false", "-1",
               "'********'", "NULL", "false", "NULL"});
  }
  users.Add({Q(caller.principal), std::to_string(StableOid("role", caller.principal)), "false",
             caller.is_root ? "true" : "false", "false", "false", "'********'", "NULL", "NULL"});
  access_methods.Add({"2", "'heap'", "'heap_tableam_handler'", "'t'"});
  access_methods.Add({"403", "'btree'", "'bthandler'", "'i'"});
  collations.Add({"100", "'default'", std::to_string(kPgCatalogNamespaceOid),
                  std::to_string(kOwnerOid), "'d'", "true", "-1", "NULL", "NULL"});
  for (const auto& [name, setting] :
       std::vector<std::pair<std::string, std::string>>{{"server_version", "15.0"},
                                                        {"server_version_num", "150000"},
                                                        {"server_encoding", "UTF8"},
                                                        {"client_encoding", "UTF8"},
                                                        {"DateStyle", "ISO, MDY"},
                                                        {"TimeZone", "UTC"},
                                                        {"standard_conforming_strings", "on"},
                                                        {"integer_datetimes", "on"},
                                                        {"max_identifier_length", "63"}}) {
    settings.Add(
        {Q(name), Q(setting), "NULL", "'meshwork'", "NULL", "'user'", "'string'", "'default'"});
  }

  MW_RETURN_IF_ERROR(namespaces.InsertInto(sql, "meshpg.pg_namespace"));
  MW_RETURN_IF_ERROR(classes.InsertInto(sql, "meshpg.pg_class"));
  MW_RETURN_IF_ERROR(attributes.InsertInto(sql, "meshpg.pg_attribute"));
  MW_RETURN_IF_ERROR(types.InsertInto(sql, "meshpg.pg_type"));
  MW_RETURN_IF_ERROR(descriptions.InsertInto(sql, "meshpg.pg_description"));
  MW_RETURN_IF_ERROR(databases.InsertInto(sql, "meshpg.pg_database"));
  MW_RETURN_IF_ERROR(roles.InsertInto(sql, "meshpg.pg_roles"));
  MW_RETURN_IF_ERROR(users.InsertInto(sql, "meshpg.pg_user"));
  MW_RETURN_IF_ERROR(access_methods.InsertInto(sql, "meshpg.pg_am"));
  MW_RETURN_IF_ERROR(collations.InsertInto(sql, "meshpg.pg_collation"));
  MW_RETURN_IF_ERROR(settings.InsertInto(sql, "meshpg.pg_settings"));
  MW_RETURN_IF_ERROR(schemata.InsertInto(sql, "meshis.schemata"));
  MW_RETURN_IF_ERROR(tables.InsertInto(sql, "meshis.tables"));
  MW_RETURN_IF_ERROR(columns.InsertInto(sql, "meshis.columns"));
  MW_RETURN_IF_ERROR(domains_rows.InsertInto(sql, "mesh_catalog.domains"));
  MW_RETURN_IF_ERROR(products_rows.InsertInto(sql, "mesh_catalog.products"));
  MW_RETURN_IF_ERROR(ports_rows.InsertInto(sql, "mesh_catalog.ports"));
  MW_RETURN_IF_ERROR(catalog_columns.InsertInto(sql, "mesh_catalog.columns"));
  MW_RETURN_IF_ERROR(versions_rows.InsertInto(sql, "mesh_catalog.versions"));
  out->built_at_ms_ = time::NowMillis();
  return out;
}

Status MetadataDatabase::LoadAudit(const std::vector<metastore::AuditRecord>& records) {
  MW_RETURN_IF_ERROR(connection_.Execute("DELETE FROM mesh_catalog.audit"));
  Rows rows;
  const auto list = [](const std::string& joined) {
    return joined.empty() ? std::string("[]::VARCHAR[]") : "string_split(" + Q(joined) + ", ',')";
  };
  for (const auto& record : records) {
    rows.Add({std::to_string(record.id), Timestamp(record.at_ms), Q(record.principal),
              Q(record.request_id), Q(record.channel), Q(record.operation), list(record.securables),
              record.allowed ? "true" : "false", Q(record.reason), list(record.policies),
              QOrNull(record.fingerprint), record.rows < 0 ? "NULL" : std::to_string(record.rows),
              Q(record.details)});
  }
  return rows.InsertInto(connection_, "mesh_catalog.audit");
}

}  // namespace meshwork::query
