package snowflake_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/snowflake"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

// TestLiveConformance runs the conformance suite against a real account
// when SNOWFLAKE_ACCOUNT is set (README, "Snowflake"). Use a scratch
// database: the suite creates schemas named SRC_…, RES_…, "MIXED CASE …"
// and "AUDIT "RESULTS" …", which it drops afterwards.
func TestLiveConformance(t *testing.T) {
	env := os.Getenv
	if env("SNOWFLAKE_ACCOUNT") == "" {
		t.Skip("live Snowflake test: set SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_DATABASE, SNOWFLAKE_WAREHOUSE " +
			"(and SNOWFLAKE_ROLE) with SNOWFLAKE_PRIVATE_KEY_FILE, SNOWFLAKE_PASSWORD or SNOWFLAKE_TOKEN to run it")
	}
	for _, k := range []string{"SNOWFLAKE_USER", "SNOWFLAKE_DATABASE", "SNOWFLAKE_WAREHOUSE"} {
		if env(k) == "" {
			t.Fatalf("SNOWFLAKE_ACCOUNT is set but %s is not", k)
		}
	}
	creds := snowflake.Credentials{Password: env("SNOWFLAKE_PASSWORD"), PrivateKeyPEM: env("SNOWFLAKE_PRIVATE_KEY"),
		PrivateKeyPassphrase: env("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"), Token: env("SNOWFLAKE_TOKEN")}
	if path := env("SNOWFLAKE_PRIVATE_KEY_FILE"); path != "" && creds.PrivateKeyPEM == "" {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		creds.PrivateKeyPEM = string(b)
	}
	q := url.Values{"warehouse": {env("SNOWFLAKE_WAREHOUSE")}}
	if r := env("SNOWFLAKE_ROLE"); r != "" {
		q.Set("role", r)
	}
	rawURL := fmt.Sprintf("snowflake://%s@%s/%s/PUBLIC?%s", url.PathEscape(env("SNOWFLAKE_USER")), env("SNOWFLAKE_ACCOUNT"),
		env("SNOWFLAKE_DATABASE"), q.Encode())
	ctx := context.Background()
	admin, err := snowflake.Open(ctx, rawURL, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	before := schemata(t, admin)
	t.Cleanup(func() {
		for name := range schemata(t, admin) {
			if before[name] {
				continue
			}
			for _, prefix := range []string{"SRC_", "RES_", "MIXED CASE ", `AUDIT "RESULTS" `} {
				if strings.HasPrefix(name, prefix) {
					if err := admin.Conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+admin.Dialect.QuoteName(name)+" CASCADE"); err != nil {
						t.Errorf("drop schema %s: %v", name, err)
					}
				}
			}
		}
	})
	openLive := func(t *testing.T) *sqlwh.Warehouse {
		wh, err := snowflake.Open(ctx, rawURL, creds)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	}
	warehousetest.Run(t, warehousetest.Backend{Name: "snowflake (live)", Open: openLive})
	// Pushdown's differential in Segment's layout against the engine
	// itself, not the endpoint's translation to DuckDB; over the corpora
	// a destination loads (the edge corpus's extra rows are written in
	// Postgres's spelling). Its schemas are SEGPD_…, dropped afterwards.
	t.Run("segment pushdown agrees", func(t *testing.T) {
		wh := openLive(t)
		for name, corpus := range map[string]func(*testing.T) (*schemas.Registry, []audit.Row){
			"hostile": warehousetest.HostileCorpus, "suite": warehousetest.SuiteCorpus,
			"random": func(t *testing.T) (*schemas.Registry, []audit.Row) { return warehousetest.RandomCorpus(t, 1, 40) }} {
			reg, rows := corpus(t)
			proven, scanned := warehousetest.SegmentPushdownAgrees(t, wh, reg, rows)
			t.Logf("%s: %d of %d rows proven valid in SQL", name, proven, scanned)
		}
	})
}

func schemata(t *testing.T, wh *sqlwh.Warehouse) map[string]bool {
	t.Helper()
	rows, err := wh.Conn.Query(context.Background(), "SELECT schema_name FROM information_schema.schemata")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out[s] = true
	}
	return out
}
