// Package warehouse opens a warehouse backend from its URL. The backends
// live in sub-packages and never import each other; this package only
// dispatches on the URL scheme.
package warehouse

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/postgres"
	"github.com/eventaudit/eventaudit/warehouse/snowflake"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Open connects to the warehouse a URL names:
//
//	duckdb://PATH
//	postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…
//	redshift://USER:PASSWORD@HOST:5439/DB?payload=super
//	snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE
//
// creds carries the secrets a URL should not (Snowflake's key, password or
// token); the pgx backends ignore it and read PGPASSWORD themselves.
//
// # Adding a backend
//
// A backend is a sub-package (see duckdb, postgres, snowflake) with an Open
// that returns a *sqlwh.Warehouse: a connection and a *sqlwh.Dialect.
//
//  1. The connection implements sqlwh.Conn: Exec, Query, Begin (a
//     transaction with BulkInsert) and Close. Its Query honours
//     sqlwh.IsBulkRead for the window scan, which may stream.
//  2. The dialect is a plain value holding every SQL difference: quoting
//     (QuoteIdent; nil is double quotes), types, how a payload column reads
//     as JSON text (PayloadExpr), the shard's hash (ShardExpr), the
//     catalog queries (Columns, Tables, ResolveTable, ResolveSchema), the
//     lock's serialisation (LockTable, SessionAlive) and the bulk-write
//     method (BulkWrite, MaxParams, MaxStatementBytes, MaxTextBytes). The
//     shared SQL — the scan, the result tables, the lock, Segment's layout —
//     is rendered from it, so nothing else needs changing.
//  3. Add the URL scheme to OpenSQL below.
//  4. Run warehousetest.Run (the conformance suite every backend passes)
//     against it, and add a golden file of its SQL with
//     warehousetest.DialectSQL, as the other backends' tests do.
func Open(ctx context.Context, rawURL string, creds Credentials) (*Warehouse, error) {
	wh, err := OpenSQL(ctx, rawURL, creds)
	if err != nil {
		return nil, err
	}
	return &Warehouse{wh: wh}, nil
}

// OpenSQL opens the backend itself, for the tests and benchmarks that
// query it directly; eventaudit's commands use Open.
func OpenSQL(ctx context.Context, rawURL string, creds Credentials) (*sqlwh.Warehouse, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, audit.Configf(fmt.Errorf("warehouse %q is not a URL: use duckdb://PATH, postgres://…, redshift://… or snowflake://…", Redact(rawURL)))
	}
	switch scheme {
	case "duckdb":
		return duckdb.Open(ctx, rawURL)
	case "postgres", "postgresql", "redshift":
		return postgres.Open(ctx, rawURL)
	case "snowflake":
		return snowflake.Open(ctx, rawURL, creds)
	}
	return nil, audit.Configf(fmt.Errorf("unknown warehouse scheme %q (use duckdb, postgres, redshift or snowflake)", scheme))
}

// Credentials are secrets kept out of the warehouse URL.
type Credentials = snowflake.Credentials

// Redact hides the password and secret query parameters of a URL, for logs
// and errors. It tolerates unescaped '/' and '@' in the password.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			rest = user + ":xxxxx" + rest[at:]
		}
	}
	if !hasQuery {
		return scheme + "://" + rest
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, _ := strings.Cut(p, "="); isSecretParam(k) {
			params[i] = k + "=xxxxx"
		}
	}
	return scheme + "://" + rest + "?" + strings.Join(params, "&")
}

// Secrets returns the password and secret parameters of a URL, raw and
// percent-decoded, so callers can scrub them from anything they print.
func Secrets(rawURL string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if dec, err := url.PathUnescape(s); err == nil && dec != s {
			out = append(out, dec)
		}
	}
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil
	}
	rest, query, _ := strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, pass, ok := strings.Cut(rest[:at], ":"); ok {
			add(pass)
		}
	}
	for _, p := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(p, "=")
		if isSecretParam(k) {
			add(v)
		}
	}
	return out
}

func isSecretParam(k string) bool {
	switch strings.ToLower(k) {
	case "password", "token", "passcode", "privatekey", "private_key", "private_key_passphrase", "privatekeypassphrase":
		return true
	}
	return false
}
