-- result tables
CREATE SCHEMA IF NOT EXISTS "eventaudit";
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_runs" (
  "run_id" VARCHAR,
  "source" VARCHAR,
  "window_start" TIMESTAMPTZ,
  "window_end" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "finished_at" TIMESTAMPTZ,
  "status" VARCHAR,
  "rows_scanned" BIGINT,
  "rows_invalid" BIGINT,
  "rows_unplanned" BIGINT,
  "violations" BIGINT,
  "schemas_digest" VARCHAR,
  "version" VARCHAR,
  "shard" VARCHAR,
  "label" VARCHAR,
  "latest_received_at" TIMESTAMPTZ,
  "duplicate_rows" BIGINT,
  "rows_proven" BIGINT,
  "rows_fetched" BIGINT,
  "bytes_fetched" BIGINT,
  "violations_suppressed" BIGINT
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_violations" (
  "run_id" VARCHAR,
  "message_id" VARCHAR,
  "received_at" TIMESTAMPTZ,
  "event_type" VARCHAR,
  "event_name" VARCHAR,
  "schema_id" VARCHAR,
  "instance_path" VARCHAR,
  "keyword" VARCHAR,
  "message" VARCHAR,
  "value" VARCHAR,
  "source" VARCHAR,
  "suppressed" BOOLEAN
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_event_stats" (
  "run_id" VARCHAR,
  "event_type" VARCHAR,
  "event_name" VARCHAR,
  "schema_id" VARCHAR,
  "rows" BIGINT,
  "invalid_rows" BIGINT,
  "unplanned" BOOLEAN,
  "source" VARCHAR
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_property_stats" (
  "run_id" VARCHAR,
  "event_type" VARCHAR,
  "event_name" VARCHAR,
  "schema_id" VARCHAR,
  "path" VARCHAR,
  "json_type" VARCHAR,
  "rows" BIGINT,
  "in_plan" BOOLEAN,
  "example" VARCHAR,
  "source" VARCHAR
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_locks" (
  "source" VARCHAR,
  "shard" VARCHAR,
  "run_id" VARCHAR,
  "acquired_at" TIMESTAMPTZ,
  "heartbeat_at" TIMESTAMPTZ,
  "expires_at" TIMESTAMPTZ,
  "heartbeat_seconds" BIGINT,
  "holder" VARCHAR,
  PRIMARY KEY ("source", "shard")
);

-- describe the source
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position;

-- list the tables of Segment's layout
SELECT table_name FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF(?, ''), current_schema()) ORDER BY table_name;

-- describe three tables of Segment's layout
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = ? AND table_name IN (?, ?, ?) ORDER BY table_name, ordinal_position;

-- window scan, payload json
SELECT CAST("message_id" AS VARCHAR), "received_at", CAST("payload" AS VARCHAR) FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ?;

-- window scan, payload varchar
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload" FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ?;

-- window scan of shard 2/4
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload" FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? AND CAST(hash(COALESCE(CAST("message_id" AS VARCHAR), '')) % 4 AS INTEGER) = 2;

-- count the window's duplicate message ids
SELECT CAST(COALESCE(SUM(g.n - 1), 0) AS BIGINT) FROM (SELECT CAST("message_id" AS VARCHAR) AS mid, COUNT(*) AS n FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? AND CAST("message_id" AS VARCHAR) IS NOT NULL AND hash(CAST("message_id" AS VARCHAR)) IN (SELECT hash(CAST("message_id" AS VARCHAR)) FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? AND CAST("message_id" AS VARCHAR) IS NOT NULL GROUP BY 1 HAVING COUNT(*) > 1) GROUP BY 1 HAVING COUNT(*) > 1) AS g WHERE g.mid IS NOT NULL;

-- resolve the source table
SELECT table_catalog, table_schema, table_name, current_database()
FROM information_schema.tables
WHERE LOWER(table_schema) = LOWER(COALESCE(NULLIF(?, ''), current_schema())) AND LOWER(table_name) = LOWER(?)
  AND LOWER(table_catalog) = LOWER(COALESCE(NULLIF(?, ''), current_database()));

-- resolve the schema of Segment's layout
SELECT catalog_name, schema_name, current_database()
FROM information_schema.schemata
WHERE LOWER(schema_name) = LOWER(?) AND LOWER(catalog_name) = LOWER(COALESCE(NULLIF(?, ''), current_database()));

-- replace the window's earlier results (two covered runs)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = ? AND "received_at" >= ? AND "received_at" < ?;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_runs" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);

-- replace the window's earlier results of shard 2/4 (no covered run)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = ? AND "received_at" >= ? AND "received_at" < ? AND CAST(hash(COALESCE("message_id", '')) % 4 AS INTEGER) = 2;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);

-- slice a big window at quantiles of received_at (4 slices)
SELECT DISTINCT UNNEST(approx_quantile("received_at", [0.25, 0.5, 0.75])) AS q FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? ORDER BY q;

