EXPLAIN
SELECT pg_catalog.format_type(t.oid, NULL), [x for x in [1, 2]] FROM pg_catalog.pg_type t