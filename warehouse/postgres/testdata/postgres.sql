-- result tables
CREATE SCHEMA IF NOT EXISTS "eventaudit";
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_runs" (
  "run_id" TEXT,
  "source" TEXT,
  "window_start" TIMESTAMPTZ,
  "window_end" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "finished_at" TIMESTAMPTZ,
  "status" TEXT,
  "rows_scanned" BIGINT,
  "rows_invalid" BIGINT,
  "rows_unplanned" BIGINT,
  "violations" BIGINT,
  "schemas_digest" TEXT,
  "version" TEXT,
  "shard" TEXT,
  "label" TEXT,
  "latest_received_at" TIMESTAMPTZ,
  "duplicate_rows" BIGINT,
  "rows_proven" BIGINT,
  "rows_fetched" BIGINT,
  "bytes_fetched" BIGINT,
  "violations_suppressed" BIGINT
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_violations" (
  "run_id" TEXT,
  "message_id" TEXT,
  "received_at" TIMESTAMPTZ,
  "event_type" TEXT,
  "event_name" TEXT,
  "schema_id" TEXT,
  "instance_path" TEXT,
  "keyword" TEXT,
  "message" TEXT,
  "value" TEXT,
  "source" TEXT,
  "suppressed" BOOLEAN
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_event_stats" (
  "run_id" TEXT,
  "event_type" TEXT,
  "event_name" TEXT,
  "schema_id" TEXT,
  "rows" BIGINT,
  "invalid_rows" BIGINT,
  "unplanned" BOOLEAN,
  "source" TEXT
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_property_stats" (
  "run_id" TEXT,
  "event_type" TEXT,
  "event_name" TEXT,
  "schema_id" TEXT,
  "path" TEXT,
  "json_type" TEXT,
  "rows" BIGINT,
  "in_plan" BOOLEAN,
  "example" TEXT,
  "source" TEXT
);
CREATE TABLE IF NOT EXISTS "eventaudit"."eventaudit_locks" (
  "source" TEXT,
  "shard" TEXT,
  "run_id" TEXT,
  "acquired_at" TIMESTAMPTZ,
  "heartbeat_at" TIMESTAMPTZ,
  "expires_at" TIMESTAMPTZ,
  "heartbeat_seconds" BIGINT,
  "holder" TEXT,
  PRIMARY KEY ("source", "shard")
);

-- describe the source
SELECT column_name::text, data_type::text FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name = $2
ORDER BY ordinal_position;

-- list the tables of Segment's layout
SELECT table_name::text FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) ORDER BY table_name;

-- describe three tables of Segment's layout
SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name IN ($2, $3, $4)
ORDER BY table_name, ordinal_position;

-- window scan, payload jsonb
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload"::text FROM "segment"."raw_events" WHERE "received_at" >= $1 AND "received_at" < $2;

-- window scan, payload text
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload" FROM "segment"."raw_events" WHERE "received_at" >= $1 AND "received_at" < $2;

-- window scan of shard 2/4
SELECT CAST("message_id" AS VARCHAR), "received_at", "payload" FROM "segment"."raw_events" WHERE "received_at" >= $1 AND "received_at" < $2 AND MOD(ABS(hashtext(COALESCE(CAST("message_id" AS VARCHAR), ''))::BIGINT), 4) = 2;

-- count the window's duplicate message ids
SELECT CAST(COUNT(*) - COUNT(DISTINCT (CAST("message_id" AS VARCHAR) COLLATE "C")) AS BIGINT) FROM "segment"."raw_events" WHERE "received_at" >= $1 AND "received_at" < $2 AND (CAST("message_id" AS VARCHAR) COLLATE "C") IS NOT NULL;

-- count the indexes that give the newest received_at
SELECT COUNT(*) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = to_regclass($1) AND a.attname = $2 AND am.amname = 'btree' AND i.indpred IS NULL;

-- the newest received_at and the duplicates in one scan, where no index gives the first
SELECT MAX("received_at"), CAST(COUNT(*) FILTER (WHERE "received_at" >= $1 AND "received_at" < $2 AND (CAST("message_id" AS VARCHAR) COLLATE "C") IS NOT NULL) - COUNT(DISTINCT (CAST("message_id" AS VARCHAR) COLLATE "C")) FILTER (WHERE "received_at" >= $1 AND "received_at" < $2 AND (CAST("message_id" AS VARCHAR) COLLATE "C") IS NOT NULL) AS BIGINT) FROM "segment"."raw_events";

-- resolve the source table
SELECT table_catalog::text, table_schema::text, table_name::text, current_database()::text
FROM information_schema.tables
WHERE LOWER(table_schema) = LOWER(COALESCE(NULLIF($1, ''), current_schema())) AND LOWER(table_name) = LOWER($2)
  AND LOWER(table_catalog) = LOWER(COALESCE(NULLIF($3, ''), current_database()));

-- resolve the schema of Segment's layout
SELECT catalog_name::text, schema_name::text, current_database()::text
FROM information_schema.schemata
WHERE LOWER(schema_name) = LOWER($1) AND LOWER(catalog_name) = LOWER(COALESCE(NULLIF($2, ''), current_database()));

-- replace the window's earlier results (two covered runs)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = $1 AND "received_at" >= $2 AND "received_at" < $3;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "run_id" IN ($1, $2);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "run_id" IN ($1, $2);
DELETE FROM "eventaudit"."eventaudit_runs" WHERE "run_id" IN ($1, $2);
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = $1 AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = $2);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = $1 AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = $2);

-- replace the window's earlier results of shard 2/4 (no covered run)
DELETE FROM "eventaudit"."eventaudit_violations" WHERE "source" = $1 AND "received_at" >= $2 AND "received_at" < $3 AND MOD(ABS(hashtext(COALESCE("message_id", ''))::BIGINT), 4) = 2;
DELETE FROM "eventaudit"."eventaudit_event_stats" WHERE "source" = $1 AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = $2);
DELETE FROM "eventaudit"."eventaudit_property_stats" WHERE "source" = $1 AND "run_id" NOT IN (SELECT "run_id" FROM "eventaudit"."eventaudit_runs" WHERE "source" = $2);

-- serialise lock-taking
LOCK TABLE "eventaudit"."eventaudit_locks" IN EXCLUSIVE MODE;

-- bulk insert where COPY is unavailable (2 rows)
INSERT INTO "eventaudit"."eventaudit_event_stats" ("run_id", "event_type", "event_name", "schema_id", "rows", "invalid_rows", "unplanned", "source") VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16);

