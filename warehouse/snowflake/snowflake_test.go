package snowflake_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/snowflake"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
	"github.com/google/go-cmp/cmp"
	"github.com/youmark/pkcs8"
)

var update = flag.Bool("update", false, "rewrite golden files")

const password = "tester-password"

func open(t testing.TB, srv *sftest.Server) *sqlwh.Warehouse { return openWith(t, srv, "") }

func openWith(t testing.TB, srv *sftest.Server, extra string) *sqlwh.Warehouse {
	t.Helper()
	wh, err := snowflake.Open(context.Background(), srv.URL("tester", "ANALYTICS", "PUBLIC", extra),
		snowflake.Credentials{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

// The conformance suite through the real gosnowflake driver: every
// statement is logged in, submitted, bound and decoded by the driver and
// answered by the in-process endpoint.
//
// Snowflake answers the Go driver in Arrow, so the endpoint does too, and the
// window scans go through the Arrow batch API. The suite runs again with
// scans through database/sql's rows (arrow_batches=false), and with JSON
// result sets, for which the batch API falls back to rows; large results
// come in chunks the driver downloads, as from Snowflake.
func TestConformanceThroughTheDriver(t *testing.T) {
	for _, v := range []struct {
		name, format, extra string
		chunkRows           int
	}{
		{"arrow batches", "arrow", "", 0},
		{"arrow batches, 700-row chunks", "arrow", "", 700},
		{"arrow rows, 700-row chunks", "arrow", "arrow_batches=false", 700},
		{"json results, 700-row chunks", "json", "", 700},
	} {
		t.Run(v.name, func(t *testing.T) {
			srv := sftest.Start(t)
			srv.ResultFormat, srv.ChunkRows = v.format, v.chunkRows
			warehousetest.Run(t, warehousetest.Backend{Name: "snowflake (sftest, " + v.name + ")",
				Open: func(t *testing.T) *sqlwh.Warehouse { return openWith(t, srv, v.extra) }})
		})
	}
}

// Segment's layout through the driver: a run that proves rows with
// column predicates, rendered in Snowflake's SQL and run by the endpoint's
// translation, writes what a run without pushdown does.
func TestSegmentPushdownAgrees(t *testing.T) {
	srv := sftest.Start(t)
	warehousetest.SegmentPushdownSuite(t, func(t *testing.T, _ string) *sqlwh.Warehouse { return open(t, srv) })
}

// TestSegmentProofSQL pins the statements a pushdown run sends to
// Snowflake in Segment's layout.
func TestSegmentProofSQL(t *testing.T) {
	wh := open(t, sftest.Start(t))
	warehousetest.Golden(t, filepath.Join("testdata", "snowflake-segment-proof.sql"), warehousetest.SegmentProofSQL(t, wh), *update)
}

// keyPEM returns key as PKCS#8 PEM, encrypted when passphrase is set.
func keyPEM(t *testing.T, key *rsa.PrivateKey, passphrase string) string {
	t.Helper()
	if passphrase == "" {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	der, err := pkcs8.MarshalPrivateKey(key, []byte(passphrase), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}))
}

var (
	keysOnce   sync.Once
	keyA, keyB *rsa.PrivateKey
)

func keys(t *testing.T) (registered, other *rsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return keyA, keyB
}

// Each way of logging in, through the driver, and what a person reads when
// it fails: the cause, what to check, and never the secret.
func TestLogin(t *testing.T) {
	srv := sftest.Start(t)
	registered, other := keys(t)
	srv.Users["svc_audit"] = sftest.User{PublicKey: &registered.PublicKey}
	srv.Users["oauth_user"] = sftest.User{OAuthToken: "oauth-access-token-123"}
	tests := []struct {
		name, user, extra string
		creds             snowflake.Credentials
		account           string
		want              []string // substrings of the error; nil means success
	}{
		{name: "password", user: "tester", creds: snowflake.Credentials{Password: password}},
		{name: "wrong password", user: "tester", creds: snowflake.Credentials{Password: "hunter2-wrong"},
			want: []string{"Incorrect username or password", "check the user and SNOWFLAKE_PASSWORD"}},
		{name: "key pair", user: "svc_audit", creds: snowflake.Credentials{PrivateKeyPEM: keyPEM(t, registered, "")}},
		{name: "encrypted key pair", user: "svc_audit",
			creds: snowflake.Credentials{PrivateKeyPEM: keyPEM(t, registered, "pass-phrase-9"), PrivateKeyPassphrase: "pass-phrase-9"}},
		{name: "encrypted key, wrong passphrase", user: "svc_audit",
			creds: snowflake.Credentials{PrivateKeyPEM: keyPEM(t, registered, "pass-phrase-9"), PrivateKeyPassphrase: "wrong-phrase-1"},
			want:  []string{"cannot decrypt", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"}},
		{name: "encrypted key, no passphrase", user: "svc_audit",
			creds: snowflake.Credentials{PrivateKeyPEM: keyPEM(t, registered, "pass-phrase-9")},
			want:  []string{"encrypted", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"}},
		{name: "rotated key", user: "svc_audit", creds: snowflake.Credentials{PrivateKeyPEM: keyPEM(t, other, "")},
			want: []string{"JWT token is invalid", "RSA_PUBLIC_KEY"}},
		{name: "oauth", user: "oauth_user", creds: snowflake.Credentials{Token: "oauth-access-token-123"}},
		{name: "expired oauth token", user: "oauth_user", creds: snowflake.Credentials{Token: "oauth-expired-456"},
			want: []string{"Invalid OAuth access token", "SNOWFLAKE_TOKEN"}},
		{name: "wrong account", user: "tester", account: "nosuchacct", creds: snowflake.Credentials{Password: password},
			want: []string{"nosuchacct", "403", "check the account identifier"}},
		{name: "missing warehouse", user: "tester", extra: "role=ANALYST", creds: snowflake.Credentials{Password: password},
			want: []string{"warehouse NO_WH does not exist or role ANALYST may not use it", "GRANT USAGE ON WAREHOUSE NO_WH TO ROLE ANALYST"}},
		{name: "no credentials", user: "tester", want: []string{"no Snowflake credentials", "SNOWFLAKE_PRIVATE_KEY_FILE"}},
		{name: "unknown authenticator", user: "tester", extra: "authenticator=externalbrowser",
			creds: snowflake.Credentials{Password: password}, want: []string{`authenticator "externalbrowser" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := srv.URL(tt.user, "ANALYTICS", "PUBLIC", tt.extra)
			if tt.account != "" {
				url = strings.Replace(url, "@"+srv.Account+"/", "@"+tt.account+"/", 1)
			}
			if tt.name == "missing warehouse" {
				url = strings.Replace(url, "warehouse=TEST_WH", "warehouse=NO_WH", 1)
			}
			wh, err := snowflake.Open(context.Background(), url, tt.creds)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				defer wh.Close()
				if err := wh.Conn.Exec(context.Background(), "CREATE SCHEMA IF NOT EXISTS login_check"); err != nil {
					t.Fatalf("a statement after login: %v", err)
				}
				return
			}
			if err == nil {
				wh.Close()
				t.Fatalf("want an error containing %q, got none", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{tt.creds.Password, tt.creds.Token, tt.creds.PrivateKeyPassphrase, "PRIVATE KEY"} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals a secret", err)
				}
			}
		})
	}
}

// The session settings eventaudit relies on reach Snowflake at login.
func TestSessionParameters(t *testing.T) {
	srv := sftest.Start(t)
	open(t, srv)
	got := srv.SessionParameters()
	for k, want := range map[string]string{"TIMEZONE": "UTC", "QUOTED_IDENTIFIERS_IGNORE_CASE": "TRUE", "QUERY_TAG": "eventaudit"} {
		if fmt.Sprint(got[k]) != want {
			t.Errorf("session parameter %s = %v, want %s", k, got[k], want)
		}
	}
}

// A run's writes bind arrays, stay below the threshold at which the driver
// would stage them (and so commit the transaction through DDL), and stay
// inside the run's transaction: a rollback leaves nothing.
func TestBulkInsertBindsArraysInsideTheTransaction(t *testing.T) {
	srv := sftest.Start(t)
	wh := open(t, srv)
	ctx := context.Background()
	sink := &sqlwh.Sink{WH: wh, Schema: "bulk"}
	const n = 14000
	vs := make([]audit.Violation, n)
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	long := `["` + strings.Repeat("x", 300) + `…`
	for i := range vs {
		vs[i] = audit.Violation{RunID: "r1", MessageID: fmt.Sprintf("m%05d", i), ReceivedAt: at, EventType: "track",
			EventName: "Order Completed", Keyword: "type", InstancePath: "/properties/total", Message: "expected number",
			Value: `"3.00"`}
	}
	vs[1].Value = long // a truncated value is not JSON
	vs[2].Value = `{"a":[1,2]}`
	run := audit.Run{RunID: "r1", Source: "raw.events", Window: audit.Window{Start: at, End: at.Add(time.Hour)}}
	count := func() string {
		var c string
		if err := srv.DB().QueryRow(`SELECT COUNT(*) FROM bulk.eventaudit_violations`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	tx, err := sink.Begin(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	before := len(srv.Statements())
	if err := tx.WriteViolations(ctx, vs); err != nil {
		t.Fatal(err)
	}
	inserts := 0
	for _, st := range srv.Statements()[before:] {
		if !strings.HasPrefix(st.SQL, "INSERT") {
			continue
		}
		inserts++
		if !st.InTransaction || st.ArrayRows == 0 || st.Binds >= snowflake.StageBindThreshold {
			t.Errorf("insert of %d binds (%d array rows, in transaction %v): want array binds under %d inside the transaction",
				st.Binds, st.ArrayRows, st.InTransaction, snowflake.StageBindThreshold)
		}
	}
	if want := (n + 6527) / 6528; inserts != want {
		t.Errorf("%d INSERT statements for %d rows of 10 columns, want %d", inserts, n, want)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "0" {
		t.Fatalf("after rollback %s violations remain", got)
	}

	tx, err = sink.Begin(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.WriteViolations(ctx, vs); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, run, nil); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != fmt.Sprint(n) {
		t.Fatalf("after commit %s violations, want %d", got, n)
	}
	// Values are VARIANTs: JSON where it parses, a string where truncated.
	rows, err := wh.Conn.Query(ctx, `SELECT "message_id", TO_JSON("value") FROM "bulk"."eventaudit_violations" WHERE "message_id" IN ('m00000', 'm00001', 'm00002') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+"="+v)
	}
	quoted, _ := json.Marshal(long)
	want := []string{`m00000="3.00"`, "m00001=" + string(quoted), `m00002={"a":[1,2]}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// A cancelled run (SIGTERM) cancels its query on the server too, and writes
// nothing.
func TestCancelAbortsTheServerQuery(t *testing.T) {
	srv := sftest.Start(t)
	wh := open(t, srv)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"raw", "events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	if err := wh.LoadRaw(ctx, raw, "VARIANT", []audit.Row{{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"x"}`)}}); err != nil {
		t.Fatal(err)
	}
	srv.Stall = func(q string) bool { return strings.HasPrefix(q, "SELECT CAST(") }
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &sqlwh.Sink{WH: wh, Schema: "res"}
	a := &audit.Auditor{Source: &sqlwh.Source{WH: wh, Table: raw}, Sink: sink, Workers: 2,
		Matcher: &audit.Matcher{Catalog: audittest.NewCatalog(), Target: audit.ValidateObject}}
	done := make(chan error, 1)
	go func() {
		_, err := a.Run(runCtx, audit.Run{RunID: "r1", Source: "raw.events", Window: audit.Window{Start: at, End: at.Add(time.Hour)}})
		done <- err
	}()
	scan := waitFor(t, srv, "SELECT CAST(")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !contains(srv.Aborted(), scan.RequestID) {
		if time.Now().After(deadline) {
			t.Fatalf("the driver did not abort request %s on the server; aborted: %v", scan.RequestID, srv.Aborted())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, table := range []string{"eventaudit_runs", "eventaudit_violations", "eventaudit_event_stats"} {
		var n int
		if err := srv.DB().QueryRow("SELECT COUNT(*) FROM res." + table).Scan(&n); err == nil && n != 0 {
			t.Errorf("%s has %d rows after a cancelled run", table, n)
		}
	}
}

func waitFor(t *testing.T, srv *sftest.Server, prefix string) sftest.Statement {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, st := range srv.Statements() {
			if strings.HasPrefix(st.SQL, prefix) {
				return st
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no statement starting %q reached the server", prefix)
	return sftest.Statement{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Snowflake's SQL, for review: DDL, the window query, the re-run's deletes
// and the array-bound insert. go test -update rewrites it.
func TestGoldenSQL(t *testing.T) {
	d := snowflake.NewDialect()
	doc := warehousetest.DialectSQL(t, d, []string{"variant", "text"}, "variant")
	doc.Section("bulk insert of violations, one array bind per column", snowflake.InsertSQL(d, sqlwh.Ident{"eventaudit", sqlwh.ViolationsTable},
		sqlwh.ViolationsColumns, []string{"VALUE"}))
	warehousetest.Golden(t, filepath.Join("testdata", "snowflake.sql"), doc.String(), *update)
}
