-- result tables
CREATE SCHEMA IF NOT EXISTS "eventaudit";
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_runs" (
  "run_id" VARCHAR,
  "source" VARCHAR,
  "window_start" TIMESTAMP_TZ,
  "window_end" TIMESTAMP_TZ,
  "started_at" TIMESTAMP_TZ,
  "finished_at" TIMESTAMP_TZ,
  "status" VARCHAR,
  "rows_scanned" BIGINT,
  "rows_invalid" BIGINT,
  "rows_unplanned" BIGINT,
  "violations" BIGINT,
  "schemas_digest" VARCHAR,
  "version" VARCHAR,
  "shard" VARCHAR,
  "label" VARCHAR,
  "latest_received_at" TIMESTAMP_TZ,
  "duplicate_rows" BIGINT,
  "rows_proven" BIGINT,
  "rows_fetched" BIGINT,
  "bytes_fetched" BIGINT,
  "violations_suppressed" BIGINT
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_violations" (
  "run_id" VARCHAR,
  "message_id" VARCHAR,
  "received_at" TIMESTAMP_TZ,
  "event_type" VARCHAR,
  "event_name" VARCHAR,
  "schema_id" VARCHAR,
  "instance_path" VARCHAR,
  "keyword" VARCHAR,
  "message" VARCHAR,
  "value" VARIANT,
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
  "example" VARIANT,
  "source" VARCHAR
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_locks" (
  "source" VARCHAR,
  "shard" VARCHAR,
  "run_id" VARCHAR,
  "acquired_at" TIMESTAMP_TZ,
  "heartbeat_at" TIMESTAMP_TZ,
  "expires_at" TIMESTAMP_TZ,
  "heartbeat_seconds" BIGINT,
  "holder" VARCHAR,
  PRIMARY KEY ("source", "shard")
);

-- describe the source
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) AND table_name = UPPER(?)
ORDER BY ordinal_position;

-- list the tables of Segment's layout
SELECT table_name FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) ORDER BY table_name;

-- describe three tables of Segment's layout
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) AND table_name IN (UPPER(?), UPPER(?), UPPER(?))
ORDER BY table_name, ordinal_position;

-- window scan, payload variant
SELECT CAST("message_id" AS VARCHAR), "received_at", TO_JSON("payload") FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ?;

-- window scan, payload text
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload" FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ?;

-- window scan of shard 2/4
SELECT CAST("message_id" AS VARCHAR), "received_at", TO_JSON("payload") FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? AND ABS(HASH(COALESCE(CAST("message_id" AS VARCHAR), ''))) % 4 = 2;

-- count the window's duplicate message ids
SELECT CAST(COALESCE(SUM(g.n - 1), 0) AS BIGINT) FROM (SELECT COLLATE(CAST("message_id" AS VARCHAR), 'utf8') AS mid, COUNT(*) AS n FROM "segment"."raw_events" WHERE "received_at" >= ? AND "received_at" < ? GROUP BY 1 HAVING COUNT(*) > 1) AS g WHERE g.mid IS NOT NULL;

-- resolve the source table
SELECT table_catalog, table_schema, table_name, CURRENT_DATABASE()
FROM information_schema.tables
WHERE UPPER(table_schema) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_SCHEMA())) AND UPPER(table_name) = UPPER(?)
  AND UPPER(table_catalog) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_DATABASE()));

-- resolve the schema of Segment's layout
SELECT catalog_name, schema_name, CURRENT_DATABASE()
FROM information_schema.schemata
WHERE UPPER(schema_name) = UPPER(?) AND UPPER(catalog_name) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_DATABASE()));

-- replace the window's earlier results (two covered runs)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = ? AND "received_at" >= ? AND "received_at" < ?;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_runs" WHERE "run_id" IN (?, ?);
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);

-- replace the window's earlier results of shard 2/4 (no covered run)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = ? AND "received_at" >= ? AND "received_at" < ? AND ABS(HASH(COALESCE("message_id", ''))) % 4 = 2;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = ? AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = ?);

-- bulk insert of violations, one array bind per column
INSERT INTO "eventaudit"."eventaudit_violations" ("run_id", "message_id", "received_at", "event_type", "event_name", "schema_id", "instance_path", "keyword", "message", "value", "source", "suppressed") SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, COALESCE(TRY_PARSE_JSON(NULLIF(column10, '')), TO_VARIANT(NULLIF(column10, ''))), column11, column12 FROM VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

