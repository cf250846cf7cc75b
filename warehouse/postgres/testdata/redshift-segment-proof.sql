WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event" AS "c2", "event_text" AS "c3", CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "event_text" <> '' AND octet_length("event_text") <= 1024 AND "event_text" NOT IN ('Bounded', 'Closed', 'Home', 'Identify', 'Listed', 'Nested', 'Page', 'Texts') THEN 8 END AS "rule" FROM "segment_golden"."tracks" WHERE "received_at" >= $1 AND "received_at" < $2 AND ("event" IS NULL OR LOWER("event") NOT IN ('bounded', 'closed', 'home', 'identify', 'listed', 'nested', 'page', 'texts'))
)
SELECT "c0", "c1", "c2", "c3", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, "c2", "c3", "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule", "c2", "c3";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event_text" AS "c2", "big" AS "c3", "qty" AS "c4", "ratio" AS "c5", "score" AS "c6", "tiny" AS "c7", "extra" AS "c8", CASE WHEN coalesce(COLLATE("event_text", 'case_sensitive'), '') IN ('', 'Bounded') THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "extra" IS NULL AND ("qty" IS NOT NULL AND "ratio" IS NOT NULL AND (CASE WHEN "big" IS NULL THEN true ELSE (CAST("big" AS DOUBLE PRECISION) < CAST('1e+20' AS DOUBLE PRECISION)) END) AND (CASE WHEN "qty" IS NULL THEN true ELSE ("qty" >= 2 AND CAST("qty" AS DOUBLE PRECISION) < CAST('9.007199254740992e+15' AS DOUBLE PRECISION)) END) AND (CASE WHEN "ratio" IS NULL THEN true ELSE ("ratio" BETWEEN CAST('-1.7976931348623157e308' AS DOUBLE PRECISION) AND CAST('1.7976931348623157e308' AS DOUBLE PRECISION) AND "ratio" > CAST('0' AS DOUBLE PRECISION) AND "ratio" < CAST('2.5' AS DOUBLE PRECISION)) END) AND (CASE WHEN "score" IS NULL THEN true ELSE ("score" BETWEEN CAST('-1.7976931348623157e308' AS DOUBLE PRECISION) AND CAST('1.7976931348623157e308' AS DOUBLE PRECISION) AND "score" = trunc("score") AND "score" < CAST('10' AS DOUBLE PRECISION)) END) AND (CASE WHEN "tiny" IS NULL THEN true ELSE ("tiny" BETWEEN CAST('-1.7976931348623157e308' AS DOUBLE PRECISION) AND CAST('1.7976931348623157e308' AS DOUBLE PRECISION) AND "tiny" > CAST('0.1' AS DOUBLE PRECISION)) END) AND true) THEN 0 END END AS "rule" FROM "segment_golden"."bounded" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event_text" AS "c2", "a" AS "c3", "b" AS "c4", "schema_id" AS "c5", CASE WHEN coalesce(COLLATE("event_text", 'case_sensitive'), '') IN ('', 'Closed') THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "b" IS NULL AND "schema_id" IS NULL AND ((CASE WHEN "a" IS NULL THEN true ELSE true END)) THEN 1 END END AS "rule" FROM "segment_golden"."closed" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event_text" AS "c2", "items" AS "c3", "tags" AS "c4", "alias" AS "c5", CASE WHEN coalesce(COLLATE("event_text", 'case_sensitive'), '') IN ('', 'Listed') THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND ("tags" IS NOT NULL AND (CASE WHEN "alias" IS NULL THEN true ELSE false END) AND (CASE WHEN "items" IS NULL THEN true ELSE false END) AND (CASE WHEN "tags" IS NULL THEN true ELSE false END)) THEN 4 END END AS "rule" FROM "segment_golden"."listed" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event_text" AS "c2", "item_id" AS "c3", "item_name" AS "c4", "opt" AS "c5", "item_x" AS "c6", "item" AS "c7", CASE WHEN coalesce(COLLATE("event_text", 'case_sensitive'), '') IN ('', 'Nested') THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "item_x" IS NULL AND "item" IS NULL AND ((NOT ("item_id" IS NOT NULL OR "item_name" IS NOT NULL) OR ("item_id" IS NOT NULL AND (CASE WHEN "item_id" IS NULL THEN true ELSE true END) AND (CASE WHEN "item_name" IS NULL THEN true ELSE (char_length("item_name") <= 4) END))) AND (CASE WHEN "opt" IS NULL THEN true ELSE ("opt" >= 0) END)) THEN 5 END END AS "rule" FROM "segment_golden"."nested" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "event_text" AS "c2", "code" AS "c3", "flag" AS "c4", "label" AS "c5", "note" AS "c6", "sku" AS "c7", "when" AS "c8", "word" AS "c9", "other" AS "c10", CASE WHEN coalesce(COLLATE("event_text", 'case_sensitive'), '') IN ('', 'Texts') THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "other" IS NULL AND ("code" IS NOT NULL AND (CASE WHEN "code" IS NULL THEN true ELSE (COLLATE("code", 'case_sensitive') IN (('' || CHR(92) || 'n'), 'a', 'b', 'é')) END) AND (CASE WHEN "flag" IS NULL THEN true ELSE true END) AND (CASE WHEN "label" IS NULL THEN true ELSE true END) AND (CASE WHEN "note" IS NULL THEN true ELSE true END) AND (CASE WHEN "sku" IS NULL THEN true ELSE false END) AND (CASE WHEN "when" IS NULL THEN true ELSE "when" BETWEEN '0001-01-01' AND '9999-12-31' END) AND (CASE WHEN "word" IS NULL THEN true ELSE (char_length("word") >= 2 AND char_length("word") <= 3) END)) THEN 7 END END AS "rule" FROM "segment_golden"."texts" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "name" AS "c2", "path" AS "c3", "title" AS "c4", "a" AS "c5", CASE COLLATE("name", 'case_sensitive') WHEN 'Bounded' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND "a" IS NULL AND (false AND false AND true AND true AND true AND true AND true AND true) THEN 9 END WHEN 'Closed' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND ((CASE WHEN "a" IS NULL THEN true ELSE true END)) THEN 10 END WHEN 'Home' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "title" IS NULL AND "a" IS NULL AND ("path" IS NOT NULL AND (CASE WHEN "path" IS NULL THEN true ELSE (char_length("path") <= 5) END)) THEN 11 END WHEN 'Identify' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND "a" IS NULL AND (false AND true AND true) THEN 12 END WHEN 'Listed' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND "a" IS NULL AND (false AND true AND true AND true) THEN 13 END WHEN 'Nested' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND "a" IS NULL AND ((NOT false OR (false AND true AND true)) AND true) THEN 14 END WHEN 'Page' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "a" IS NULL AND ((CASE WHEN "title" IS NULL THEN true ELSE (char_length("title") >= 2) END)) THEN 15 END WHEN 'Texts' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND "a" IS NULL AND (false AND true AND true AND true AND true AND true AND true AND true) THEN 16 END ELSE CASE WHEN coalesce(octet_length("name") <= 1024, true) THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "a" IS NULL AND ((CASE WHEN "title" IS NULL THEN true ELSE (char_length("title") >= 2) END)) THEN 17 END END END AS "rule" FROM "segment_golden"."pages" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", "c5", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, "c2", NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule", "c2";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "name" AS "c2", "path" AS "c3", "title" AS "c4", CASE COLLATE("name", 'case_sensitive') WHEN 'Bounded' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND (false AND false AND true AND true AND true AND true AND true AND true) THEN 18 END WHEN 'Closed' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND (true) THEN 19 END WHEN 'Home' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "title" IS NULL AND ("path" IS NOT NULL AND (CASE WHEN "path" IS NULL THEN true ELSE (char_length("path") <= 5) END)) THEN 20 END WHEN 'Identify' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND (false AND true AND true) THEN 21 END WHEN 'Listed' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND (false AND true AND true AND true) THEN 22 END WHEN 'Nested' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND ((NOT false OR (false AND true AND true)) AND true) THEN 23 END WHEN 'Page' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND ((CASE WHEN "title" IS NULL THEN true ELSE (char_length("title") >= 2) END)) THEN 24 END WHEN 'Texts' THEN CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "path" IS NULL AND "title" IS NULL AND (false AND true AND true AND true AND true AND true AND true AND true) THEN 25 END END AS "rule" FROM "segment_golden"."screens" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, "c2", NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule", "c2";

WITH "proof" AS (
  SELECT CAST("id" AS VARCHAR) AS "c0", "received_at" AS "c1", "name" AS "c2", "email" AS "c3", "age" AS "c4", CASE WHEN coalesce(octet_length(CAST("id" AS VARCHAR)) <= 256, true) AND "name" IS NULL AND ("email" IS NOT NULL AND (CASE WHEN "age" IS NULL THEN true ELSE ("age" >= 0) END) AND (CASE WHEN "email" IS NULL THEN true ELSE (char_length("email") >= 3) END)) THEN 27 END AS "rule" FROM "segment_golden"."identifies" WHERE "received_at" >= $1 AND "received_at" < $2
)
SELECT "c0", "c1", "c2", "c3", "c4", CAST(NULL AS BIGINT) AS "rule", CAST(NULL AS BIGINT) AS "n" FROM "proof" WHERE "rule" IS NULL
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, "rule", COUNT(*) FROM "proof" WHERE "rule" IS NOT NULL GROUP BY "rule";

SELECT CAST("id" AS VARCHAR), "received_at", "plan" FROM "segment_golden"."groups" WHERE "received_at" >= $1 AND "received_at" < $2;
