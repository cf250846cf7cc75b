// Package sftest serves, on 127.0.0.1 inside the test process, the part of
// Snowflake's HTTP protocol that the gosnowflake driver speaks: login
// (password, key pair, OAuth), query submission with scalar and array
// binds, JSON result sets, query abort and session close. It answers by
// running each statement on an in-memory DuckDB database after the small
// translation in translate.go.
//
// It is a test fixture, not a Snowflake: it has one account, checks
// credentials and the session's warehouse, keeps one DuckDB connection per
// session (so transactions behave per session), and records what it was
// asked so tests can assert on the driver's traffic.
package sftest

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the engine behind the endpoint
	"github.com/golang-jwt/jwt/v5"
)

// User is an account's user and the secrets it logs in with.
type User struct {
	Password   string
	PublicKey  *rsa.PublicKey
	OAuthToken string
}

// Statement is one query the driver submitted.
type Statement struct {
	SQL       string
	RequestID string
	// Binds is the number of bound values; ArrayRows is the length of
	// array binds (0 for scalar binds).
	Binds, ArrayRows int
	// InTransaction says whether the session had an open transaction.
	InTransaction bool
}

// Server is the endpoint. Its fields may be changed before clients connect.
type Server struct {
	Account    string
	Users      map[string]User
	Warehouses map[string]bool
	// ResultFormat is how result sets are sent: "arrow", as Snowflake
	// answers the Go driver (the default), or "json".
	ResultFormat string
	// ChunkRows, when set, sends results longer than this in chunks the
	// driver downloads separately, as Snowflake does for large results.
	ChunkRows int
	chunks    map[string][]byte
	// ReplaySelects answers a SELECT it has answered before with the same
	// bytes, without running it: benchmarks then measure the client.
	ReplaySelects bool
	replay        map[string][]byte
	// Stall, when it returns true for a statement, makes that statement run
	// until the driver aborts it: a query that outlives its caller.
	Stall func(sql string) bool

	t        testing.TB
	db       *sql.DB
	listener net.Listener
	http     *http.Server

	mu         sync.Mutex
	sessions   map[string]*session
	running    map[string]context.CancelFunc
	statements []Statement
	aborted    []string
	logins     []map[string]any
}

type session struct {
	conn      *sql.Conn
	user      string
	warehouse string
	inTx      bool
	mu        sync.Mutex // one statement at a time, as in a real session
}

// Start serves a fresh endpoint for the test's lifetime, with account
// "testacct", warehouse "TEST_WH" and user "tester" whose password is
// "tester-password".
func Start(t testing.TB) *Server {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range setupSQL {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("sftest setup %q: %v", q, err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Account:    "testacct",
		Users:      map[string]User{"tester": {Password: "tester-password"}},
		Warehouses: map[string]bool{"TEST_WH": true},
		t:          t, db: db, listener: l,
		sessions: map[string]*session{}, running: map[string]context.CancelFunc{}, replay: map[string][]byte{}, chunks: map[string][]byte{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", s.login)
	mux.HandleFunc("POST /queries/v1/query-request", s.query)
	mux.HandleFunc("POST /queries/v1/abort-request", s.abort)
	mux.HandleFunc("POST /session", s.closeSession)
	mux.HandleFunc("GET /chunks/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, ok := s.chunks[r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("sftest: the driver called %s %s, which the fixture does not serve", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	s.http = &http.Server{Handler: mux}
	go func() { _ = s.http.Serve(l) }()
	t.Cleanup(func() {
		_ = s.http.Close()
		s.mu.Lock()
		for _, ss := range s.sessions {
			_ = ss.conn.Close()
		}
		s.mu.Unlock()
		_ = db.Close()
	})
	return s
}

// Port is the endpoint's TCP port.
func (s *Server) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// URL is an eventaudit warehouse URL for user on this endpoint; extra is
// appended to the query string.
func (s *Server) URL(user, database, schema, extra string) string {
	u := fmt.Sprintf("snowflake://%s@%s/%s/%s?warehouse=TEST_WH&protocol=http&host=127.0.0.1&port=%d",
		url.PathEscape(user), s.Account, database, schema, s.Port())
	if extra != "" {
		u += "&" + extra
	}
	return u
}

// DB is the DuckDB database behind the endpoint, for a test to inspect.
func (s *Server) DB() *sql.DB { return s.db }

// Statements returns what the driver submitted so far.
func (s *Server) Statements() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Statement(nil), s.statements...)
}

// Aborted returns the request ids of queries the driver asked to cancel.
func (s *Server) Aborted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.aborted...)
}

// SessionParameters returns the SESSION_PARAMETERS of the last login.
func (s *Server) SessionParameters() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.logins) == 0 {
		return nil
	}
	return s.logins[len(s.logins)-1]
}

func readJSON(r *http.Request, v any) error {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return err
		}
		body = gz
	}
	return json.NewDecoder(body).Decode(v)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// failure is Snowflake's error envelope.
func failure(w http.ResponseWriter, code, sqlState, message string) {
	writeJSON(w, map[string]any{"success": false, "code": code, "message": message,
		"data": map[string]any{"sqlState": sqlState, "queryId": newID()}})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type loginRequest struct {
	Data struct {
		AccountName       string         `json:"ACCOUNT_NAME"`
		LoginName         string         `json:"LOGIN_NAME"`
		Password          string         `json:"PASSWORD"`
		Authenticator     string         `json:"AUTHENTICATOR"`
		Token             string         `json:"TOKEN"`
		SessionParameters map[string]any `json:"SESSION_PARAMETERS"`
	} `json:"data"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := readJSON(r, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := req.Data
	// An unknown account is an unknown host name in Snowflake; its front
	// end answers 403.
	if !strings.EqualFold(d.AccountName, s.Account) {
		http.Error(w, "<html>403 Forbidden</html>", http.StatusForbidden)
		return
	}
	if strings.EqualFold(d.Authenticator, "SNOWFLAKE_JWT") {
		// The key pair's login names its user only in the JWT's subject.
		d.LoginName = jwtUser(d.Token, s.Account)
	}
	user, known := s.Users[d.LoginName]
	switch strings.ToUpper(d.Authenticator) {
	case "SNOWFLAKE_JWT":
		if !known || user.PublicKey == nil || verifyJWT(d.Token, s.Account, d.LoginName, user.PublicKey) != nil {
			failure(w, "390144", "08004", "JWT token is invalid.")
			return
		}
	case "OAUTH":
		if !known || user.OAuthToken == "" || d.Token != user.OAuthToken {
			failure(w, "390303", "08004", "Invalid OAuth access token.")
			return
		}
	case "SNOWFLAKE", "":
		if !known || user.Password == "" || d.Password != user.Password {
			failure(w, "390100", "08004", "Incorrect username or password was specified.")
			return
		}
	default:
		failure(w, "390100", "08004", "Unsupported authenticator "+d.Authenticator)
		return
	}
	conn, err := s.db.Conn(context.Background())
	if err != nil {
		failure(w, "390100", "08004", err.Error())
		return
	}
	token := newID()
	wh := r.URL.Query().Get("warehouse")
	s.mu.Lock()
	s.sessions[token] = &session{conn: conn, user: d.LoginName, warehouse: wh}
	s.logins = append(s.logins, d.SessionParameters)
	s.mu.Unlock()
	q := r.URL.Query()
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": map[string]any{
		"token": token, "masterToken": newID(), "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
		"sessionId": 1, "serverVersion": "sftest",
		"parameters": []map[string]any{
			{"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 65280},
			{"name": "TIMEZONE", "value": "UTC"},
		},
		"sessionInfo": map[string]any{"databaseName": q.Get("databaseName"), "schemaName": q.Get("schemaName"),
			"warehouseName": wh, "roleName": q.Get("roleName")},
	}})
}

// jwtUser reads the user from an unverified JWT's subject, ACCOUNT.USER,
// matching it case-insensitively against the account's users.
func jwtUser(token, account string) string {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return ""
	}
	sub, _ := claims["sub"].(string)
	user, ok := strings.CutPrefix(sub, strings.ToUpper(account)+".")
	if !ok {
		return ""
	}
	return strings.ToLower(user)
}

// verifyJWT checks what Snowflake checks: an RS256 signature by the user's
// key, and issuer ACCOUNT.USER.SHA256:<fingerprint of that key>.
func verifyJWT(token, account, user string, key *rsa.PublicKey) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(der)
	want := strings.ToUpper(account) + "." + strings.ToUpper(user) + ".SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
	if iss, _ := claims["iss"].(string); iss != want {
		return fmt.Errorf("issuer %q, want %q", iss, want)
	}
	return nil
}

func (s *Server) session(r *http.Request) *session {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, `Snowflake Token="`)
	if !ok {
		return nil
	}
	token = strings.TrimSuffix(token, `"`)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[token]
}

func (s *Server) closeSession(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("delete") != "true" {
		http.NotFound(w, r)
		return
	}
	token := strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Authorization"), `Snowflake Token="`), `"`)
	s.mu.Lock()
	ss := s.sessions[token]
	delete(s.sessions, token)
	s.mu.Unlock()
	if ss != nil {
		if ss.inTx {
			_, _ = ss.conn.ExecContext(context.Background(), "ROLLBACK")
		}
		_ = ss.conn.Close()
	}
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": nil})
}

func (s *Server) abort(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RequestID string `json:"requestId"`
	}
	if err := readJSON(r, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.aborted = append(s.aborted, req.RequestID)
	cancel, running := s.running[req.RequestID]
	s.mu.Unlock()
	if running {
		cancel()
	}
	// The driver treats "not executing" as done after its retries.
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": nil})
}

type queryRequest struct {
	SQLText   string                 `json:"sqlText"`
	Bindings  map[string]bindingJSON `json:"bindings"`
	BindStage string                 `json:"bindStage"`
}

type bindingJSON struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// readsTable matches statements that need a running warehouse.
var readsTable = regexp.MustCompile(`(?i)\b(FROM|INTO|UPDATE)\b`)

// Statement type ids the driver tells apart.
const (
	typeSelect = 0x1000
	typeInsert = 0x3100
	typeUpdate = 0x3200
	typeDelete = 0x3300
	typeDDL    = 0x6000
)

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	// A fixture bug must fail the test, not make the driver retry for
	// minutes on a dropped connection.
	defer func() {
		if p := recover(); p != nil {
			s.t.Errorf("sftest: panic answering a query: %v", p)
			failure(w, "100000", "XX000", fmt.Sprintf("sftest panic: %v", p))
		}
	}()
	ss := s.session(r)
	if ss == nil {
		failure(w, "390104", "08001", "User must login again to access the service.")
		return
	}
	var req queryRequest
	if err := readJSON(r, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.BindStage != "" {
		failure(w, "000002", "0A000", "sftest does not serve stage binds")
		return
	}
	requestID := r.URL.Query().Get("requestId")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.mu.Lock()
	s.running[requestID] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, requestID)
		s.mu.Unlock()
	}()

	ss.mu.Lock()
	defer ss.mu.Unlock()
	args, arrayRows, err := decodeBindings(req.Bindings)
	if err != nil {
		failure(w, "002049", "42601", "SQL compilation error: "+err.Error())
		return
	}
	s.mu.Lock()
	s.statements = append(s.statements, Statement{SQL: req.SQLText, RequestID: requestID, Binds: countBinds(req.Bindings),
		ArrayRows: arrayRows, InTransaction: ss.inTx})
	s.mu.Unlock()

	kind := statementKind(req.SQLText)
	// Statements that read no table run without a warehouse.
	needsWarehouse := kind != typeDDL && readsTable.MatchString(req.SQLText)
	if needsWarehouse && !s.Warehouses[strings.ToUpper(ss.warehouse)] {
		failure(w, "000606", "57P03", "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.")
		return
	}
	current := "NULL"
	if s.Warehouses[strings.ToUpper(ss.warehouse)] {
		current = "'" + strings.ToUpper(ss.warehouse) + "'"
	}
	q, args, err := Translate(strings.ReplaceAll(req.SQLText, "CURRENT_WAREHOUSE()", current), args, arrayRows)
	if err != nil {
		failure(w, "001003", "42000", "SQL compilation error: "+err.Error())
		return
	}
	switch strings.ToUpper(firstWord(req.SQLText)) {
	case "BEGIN":
		ss.inTx = true
	case "COMMIT", "ROLLBACK":
		ss.inTx = false
	}
	if s.Stall != nil && s.Stall(req.SQLText) {
		<-ctx.Done()
		failure(w, "000604", "57014", "SQL execution canceled")
		return
	}
	if kind == typeSelect {
		if !s.ReplaySelects {
			s.answerRows(ctx, w, ss, q, args)
			return
		}
		key := req.SQLText + "\x00" + fmt.Sprint(args)
		s.mu.Lock()
		body, ok := s.replay[key]
		s.mu.Unlock()
		if !ok {
			rec := httptest.NewRecorder()
			s.answerRows(ctx, rec, ss, q, args)
			body = rec.Body.Bytes()
			s.mu.Lock()
			s.replay[key] = body
			s.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	res, err := ss.conn.ExecContext(ctx, q, args...)
	if err != nil {
		duckFailure(w, err)
		return
	}
	n, _ := res.RowsAffected()
	if kind == typeDDL {
		writeResult(w, typeDDL, []column{{Name: "status", Type: "text"}}, [][]*string{{str("Statement executed successfully.")}})
		return
	}
	writeResult(w, kind, []column{{Name: "number of rows affected", Type: "fixed"}}, [][]*string{{str(strconv.FormatInt(n, 10))}})
}

func str(s string) *string { return &s }

// duckFailure maps a DuckDB error to the nearest Snowflake one.
func duckFailure(w http.ResponseWriter, err error) {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not exist"):
		failure(w, "002003", "42S02", "SQL compilation error: "+msg)
	case strings.Contains(msg, "context canceled"), strings.Contains(msg, "INTERRUPT"), strings.Contains(msg, "nterrupt"):
		failure(w, "000604", "57014", "SQL execution canceled")
	default:
		failure(w, "100000", "22000", msg)
	}
}

func firstWord(q string) string {
	f := strings.Fields(q)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(f[0], ";(")
}

func statementKind(q string) int {
	switch strings.ToUpper(firstWord(q)) {
	case "SELECT", "WITH", "SHOW", "DESCRIBE", "DESC":
		return typeSelect
	case "INSERT":
		return typeInsert
	case "UPDATE", "MERGE":
		return typeUpdate
	case "DELETE":
		return typeDelete
	}
	return typeDDL
}

func countBinds(b map[string]bindingJSON) int {
	n := 0
	for _, v := range b {
		var arr []*string
		if json.Unmarshal(v.Value, &arr) == nil {
			n += len(arr)
		} else {
			n++
		}
	}
	return n
}
