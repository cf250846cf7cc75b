package postgres_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/postgres"
	"github.com/eventaudit/eventaudit/warehouse/postgres/pgtest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

var update = flag.Bool("update", false, "rewrite golden files")

// pgURL is the package's server, started once by TestMain.
var pgURL, pgErr = "", error(nil)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(url string, err error) { pgURL, pgErr = url, err }))
}

func openPostgres(t *testing.T) *sqlwh.Warehouse {
	url := pgtest.Require(t, pgURL, pgErr)
	wh, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

// terminate ends a backend as a server restart or a killed client would.
func terminate(t *testing.T, wh *sqlwh.Warehouse, pid string) {
	t.Helper()
	if err := wh.Conn.Exec(context.Background(), `SELECT pg_terminate_backend($1::int)`, pid); err != nil {
		t.Fatal(err)
	}
	// The backend leaves pg_stat_activity shortly after the signal.
	for range 100 {
		rows, err := wh.Conn.Query(context.Background(), `SELECT 1 FROM pg_stat_activity WHERE pid::text = $1`, pid)
		if err != nil {
			t.Fatal(err)
		}
		alive := rows.Next()
		rows.Close()
		if !alive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("backend %s still running after pg_terminate_backend", pid)
}

func TestConformancePostgres(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{Name: "postgres", Open: openPostgres, EndSession: terminate})
}

// The Redshift dialect runs against Postgres wherever their SQL overlaps:
// DDL, window scans of VARCHAR payloads, replace, multi-row INSERT instead
// of COPY. What only Redshift accepts is in testdata/redshift.sql.
func TestConformanceRedshiftDialectOnPostgres(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{
		Name: "redshift dialect on postgres",
		Open: openRedshiftDialect,
		Skip: map[string]string{
			"JSONPayloadColumn": "SUPER exists only on Redshift; its JSON_SERIALIZE read is in testdata/redshift.sql",
		},
	})
}

// openRedshiftDialect opens the test server with the Redshift dialect,
// but for the catalog and functions only Redshift has.
func openRedshiftDialect(t *testing.T) *sqlwh.Warehouse {
	url := pgtest.Require(t, pgURL, pgErr)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	d, pg := postgres.RedshiftDialect(), postgres.PostgresDialect()
	// svv_columns, svv_tables, FNV_HASH and COLLATE(x, 'case_sensitive')
	// are Redshift's; Postgres has the standard views, hashtext and
	// COLLATE "C".
	d.Columns = pg.Columns
	d.TableColumns = pg.TableColumns
	d.Tables = pg.Tables
	d.ResolveTable = pg.ResolveTable
	d.ResolveSchema = pg.ResolveSchema
	d.ShardExpr = pg.ShardExpr
	d.ProveColumns.Binary = pg.ProveColumns.Binary
	wh := &sqlwh.Warehouse{Dialect: d, Conn: postgres.NewConn(pool, d)}
	t.Cleanup(func() { wh.Close() })
	return wh
}

// TestSQL pins the SQL each dialect sends, so a change to Redshift's — which
// no test server here can run — shows up in review.
func TestSQL(t *testing.T) {
	for _, d := range []*sqlwh.Dialect{postgres.PostgresDialect(), postgres.RedshiftDialect()} {
		t.Run(d.Name, func(t *testing.T) {
			types := map[string][]string{"postgres": {"jsonb", "text"}, "redshift": {"super", "character varying"}}[d.Name]
			doc := warehousetest.DialectSQL(t, d, types, "text")
			doc.Section("serialise lock-taking", fmt.Sprintf(d.LockTable, `"eventaudit"."eventaudit_locks"`))
			doc.Section("bulk insert where COPY is unavailable (2 rows)", d.InsertSQL(sqlwh.Ident{"eventaudit", sqlwh.StatsTable}, sqlwh.StatsColumns, 2))
			warehousetest.Golden(t, filepath.Join("testdata", d.Name+".sql"), doc.String(), *update)
		})
	}
}

// TestSegmentProofSQL pins the statements a pushdown run sends in
// Segment's layout, in each dialect: Redshift's, which no test server here
// runs, is rendered over Postgres's catalog.
func TestSegmentProofSQL(t *testing.T) {
	redshift := openRedshiftDialect(t)
	// Rendered, not run: Redshift's own COLLATE.
	redshift.Dialect.ProveColumns.Binary = postgres.RedshiftDialect().ProveColumns.Binary
	for name, wh := range map[string]*sqlwh.Warehouse{"postgres": openPostgres(t), "redshift": redshift} {
		t.Run(name, func(t *testing.T) {
			warehousetest.Golden(t, filepath.Join("testdata", name+"-segment-proof.sql"), warehousetest.SegmentProofSQL(t, wh), *update)
		})
	}
}

// killer terminates the scanning backend from another session once the
// first batch has arrived.
type killer struct {
	audit.Source
	wh *sqlwh.Warehouse
	t  *testing.T
}

func (k *killer) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	first := true
	return k.Source.Scan(ctx, w, func(rows []audit.Row) error {
		if first {
			first = false
			err := k.wh.Conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE query LIKE 'SELECT CAST(%' AND pid <> pg_backend_pid()`)
			if err != nil {
				k.t.Errorf("terminate: %v", err)
			}
		}
		return yield(rows)
	})
}

func TestConnectionKilledMidScan(t *testing.T) {
	wh := openPostgres(t)
	ctx := context.Background()
	corpus := audittest.Generate(audittest.Options{N: 20000, BadRate: 0.2, Seed: 5})
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"killed", "events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	if err := wh.LoadRaw(ctx, raw, "TEXT", corpus.Rows); err != nil {
		t.Fatal(err)
	}
	sink := &sqlwh.Sink{WH: wh, Schema: "killed_results"}
	a := &audit.Auditor{
		Source:  &killer{Source: &sqlwh.Source{WH: wh, Table: raw, BatchSize: 100}, wh: wh, t: t},
		Sink:    sink,
		Matcher: &audit.Matcher{Catalog: audittest.NewCatalog(), Target: audit.ValidateObject},
		Workers: 2,
	}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(48 * time.Hour)}
	_, err := a.Run(ctx, audit.Run{RunID: "killed", Source: "killed.events", Window: w})
	if err == nil {
		t.Fatal("the audit succeeded though its scan connection was killed")
	}
	if audit.IsConfig(err) || err == context.Canceled {
		t.Errorf("a killed connection is a runtime error (exit 3), got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "killed.events") {
		t.Errorf("the error should name the source: %v", err)
	}
	// Not a bare "unexpected EOF": what happened, and what to do.
	if !strings.Contains(err.Error(), "connection to the warehouse was lost mid-scan") || !strings.Contains(err.Error(), "re-run the window") {
		t.Errorf("the error should say the connection was lost and what to do: %v", err)
	}
	n := warehousetest.Count(t, wh, `SELECT count(*) FROM killed_results.eventaudit_violations`)
	if n != 0 {
		t.Errorf("%d violations were written by a failed run", n)
	}
}

// Message ids are duplicates when their bytes are equal, as Go compares
// them, whatever the column's collation: under a case-insensitive one
// "Ab" and "aB" are two ids, and only a repeated "Ab" is a duplicate.
func TestDuplicatesCompareIdsByteForByte(t *testing.T) {
	wh := openPostgres(t)
	raw := scratchTable(t, wh, "dups", func(table string) []string {
		return []string{
			`CREATE COLLATION IF NOT EXISTS eventaudit_test_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
			`CREATE TABLE ` + table + ` (message_id TEXT COLLATE eventaudit_test_ci, received_at TIMESTAMPTZ, payload TEXT)`,
			`INSERT INTO ` + table + ` VALUES ('Ab', '2026-11-20 01:00:00+00', '{}'), ('aB', '2026-11-20 02:00:00+00', '{}'), ('Ab', '2026-11-20 03:00:00+00', '{}')`,
		}
	})
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	v, err := sqlwh.TableVitals(context.Background(), wh, raw, audit.Shard{}, audit.Window{Start: start, End: start.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Duplicates != 1 {
		t.Fatalf("%d duplicate rows, want 1 (the second \"Ab\"; \"aB\" is another id)", v.Duplicates)
	}
}

// scratchTable makes a table of the raw layout, named after prefix, with
// the statements stmts gives for its name, and drops it when the test
// ends.
func scratchTable(t *testing.T, wh *sqlwh.Warehouse, prefix string, stmts func(table string) []string) sqlwh.RawTable {
	t.Helper()
	ctx := context.Background()
	table := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	for _, q := range stmts(table) {
		if err := wh.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { wh.Conn.Exec(context.WithoutCancel(ctx), `DROP TABLE `+table) })
	return sqlwh.RawTable{Table: sqlwh.Ident{table}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
}

// tableReads counts the statements that read a table, past the catalog's.
type tableReads struct {
	sqlwh.Conn
	table string
	n     int
}

func (c *tableReads) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	if strings.Contains(q, c.table) && !strings.Contains(q, "pg_index") {
		c.n++
	}
	return c.Conn.Query(ctx, q, args...)
}

// A table with no index on received_at is read once for the newest row
// and the duplicates together, since the newest row reads all of it; with
// a b-tree there, the newest row comes from the index and the duplicates
// from the window. Both ways measure the same: the newest row past the
// window, and the window's repeated ids only (a NULL id repeats none, nor
// does a copy before the window). A partial index gives no newest row.
func TestVitalsReadTheTableOnceWithoutAnIndex(t *testing.T) {
	wh := openPostgres(t)
	ctx := context.Background()
	raw := scratchTable(t, wh, "vitals", func(table string) []string {
		return []string{
			`CREATE TABLE ` + table + ` (message_id TEXT, received_at TIMESTAMPTZ, payload TEXT)`,
			`INSERT INTO ` + table + ` VALUES ('a', '2026-11-20 01:00:00+00', '{}'), ('a', '2026-11-20 02:00:00+00', '{}'),
			('a', '2026-11-20 03:00:00+00', '{}'), ('b', '2026-11-19 23:00:00+00', '{}'), ('b', '2026-11-20 04:00:00+00', '{}'),
			(NULL, '2026-11-20 05:00:00+00', '{}'), (NULL, '2026-11-20 06:00:00+00', '{}'), ('c', '2026-11-22 07:00:00+00', '{}')`,
		}
	})
	table := raw.Table[0]
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	want := audit.Vitals{Latest: time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC), Duplicates: 2}
	for _, c := range []struct {
		index string
		reads int
	}{
		{"", 1},
		{`CREATE INDEX ON ` + table + ` USING brin (received_at)`, 1},
		{`CREATE INDEX ON ` + table + ` (received_at) WHERE message_id IS NOT NULL`, 1},
		{`CREATE INDEX ON ` + table + ` (received_at, message_id)`, 2},
	} {
		if c.index != "" {
			if err := wh.Conn.Exec(ctx, c.index); err != nil {
				t.Fatal(err)
			}
		}
		counted := &tableReads{Conn: wh.Conn, table: table}
		v, err := sqlwh.TableVitals(ctx, &sqlwh.Warehouse{Dialect: wh.Dialect, Conn: counted}, raw, audit.Shard{},
			audit.Window{Start: start, End: start.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Latest.Equal(want.Latest) || v.Duplicates != want.Duplicates || counted.n != c.reads {
			t.Errorf("after %q: newest %v, %d duplicates, in %d reads of the table; want %v, %d, in %d",
				c.index, v.Latest, v.Duplicates, counted.n, want.Latest, want.Duplicates, c.reads)
		}
	}
}

// A pushdown proof's connection lets its rows gather while they are read,
// and stops when they are closed: no other statement on that connection
// may wait on its socket. An ordinary query's never does.
func TestOnlyProofReadsGather(t *testing.T) {
	wh := openPostgres(t)
	ctx := context.Background()
	rows, err := wh.Conn.Query(sqlwh.WithProofRead(ctx), "SELECT g FROM generate_series(1, 3) AS g")
	if err != nil {
		t.Fatal(err)
	}
	if !postgres.Gathering(t, rows) {
		t.Error("a proof's rows are read without gathering")
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil || n != 3 {
		t.Fatalf("read %d rows of 3, then %v", n, err)
	}
	if got := postgres.IdleGathering(t, wh); got != 0 {
		t.Errorf("%d idle connections still gather after the proof's rows closed", got)
	}
	plain, err := wh.Conn.Query(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if postgres.Gathering(t, plain) {
		t.Error("an ordinary query's rows gather")
	}
}
