// Package pgtest gives tests a real PostgreSQL server on 127.0.0.1: the one
// EVENTAUDIT_TEST_PG names, or a throw-away cluster started with initdb and
// pg_ctl from Debian's postgresql package and removed afterwards.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to use instead of starting one.
const EnvURL = "EVENTAUDIT_TEST_PG"

// Server is a running PostgreSQL server.
type Server struct {
	URL  string
	stop func()
}

// Stop stops a cluster this package started; it is a no-op for EVENTAUDIT_TEST_PG.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// Main wraps testing.M.Run for packages that need PostgreSQL: it starts the
// server once for the package, hands its URL to set, and stops it after.
// When no server can be had, the tests run with set("") and Require skips
// them, or fails them when CI is set.
func Main(m *testing.M, set func(url string, err error)) int {
	s, err := Start(context.Background())
	if err != nil {
		set("", err)
		return m.Run()
	}
	defer s.Stop()
	set(s.URL, nil)
	return m.Run()
}

// Require returns url, or ends the test: a failure under CI, a skip otherwise.
func Require(t testing.TB, url string, err error) string {
	t.Helper()
	if url != "" {
		return url
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is required under CI and could not be had: %v (install Debian's postgresql or set %s)", err, EnvURL)
	}
	t.Skipf("no PostgreSQL: %v (install Debian's postgresql or set %s)", err, EnvURL)
	return ""
}

// Start connects to EVENTAUDIT_TEST_PG or starts a throw-away cluster.
func Start(ctx context.Context) (*Server, error) {
	if url := os.Getenv(EnvURL); url != "" {
		if err := ping(ctx, url); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvURL, err)
		}
		return &Server{URL: url}, nil
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "eventaudit-pg-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	// initdb refuses to run as root; run the cluster as the postgres user.
	var runAs []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("running as root and there is no postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return nil, err
		}
		runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) error {
		argv := append(slices.Clone(runAs), append([]string{filepath.Join(bin, name)}, args...)...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "eventaudit", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		cleanup()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100", port, dir)
	if err := run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		cleanup()
		return nil, err
	}
	stop := func() {
		_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		cleanup()
	}
	url := fmt.Sprintf("postgres://eventaudit@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := ping(ctx, url); err != nil {
		stop()
		return nil, err
	}
	return &Server{URL: url, stop: stop}, nil
}

func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb not found (apt-get install postgresql)")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			defer conn.Close(ctx)
			return conn.Ping(ctx)
		}
		last = err
		if !strings.Contains(err.Error(), "starting up") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}
