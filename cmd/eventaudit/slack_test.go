package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSlack answers webhook and chat.postMessage calls from a script and
// counts them.
func fakeSlack(t *testing.T, answer func(n int32, w http.ResponseWriter)) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	var calls atomic.Int32
	var last atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		last.Store(string(b))
		answer(calls.Add(1), w)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, &last
}

func slackOK(_ int32, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true}`)
}

func TestSlackFromTheCLI(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "slack.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	const token = "xoxb-999-very-secret"
	audit := func(env map[string]string, extra ...string) result {
		c.env = env
		var out, errb strings.Builder
		d := &deps{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] },
			now: func() time.Time { return fixedNow }, isTTY: func(io.Writer) bool { return false },
			newRunID: func(time.Time) string { c.runIDs++; return fmt.Sprintf("run-%04d", c.runIDs) },
			sleep:    func(context.Context, time.Duration) error { return nil }}
		args := append([]string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21"}, extra...)
		code := execute(context.Background(), d, args)
		return result{code, out.String(), errb.String()}
	}
	runsCount := func() int {
		return len(queryStrings(t, strings.TrimPrefix(db, "duckdb://"), `SELECT run_id, status, source FROM eventaudit.eventaudit_runs`))
	}

	t.Run("failure mode stays quiet when the run passes", func(t *testing.T) {
		srv, calls, _ := fakeSlack(t, slackOK)
		r := audit(map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/hook"})
		if r.code != exitOK || calls.Load() != 0 {
			t.Errorf("exit %d, %d posts", r.code, calls.Load())
		}
	})
	t.Run("over threshold posts, after a 429", func(t *testing.T) {
		srv, calls, last := fakeSlack(t, func(n int32, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			slackOK(n, w)
		})
		r := audit(map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/hook"}, "--fail-on", "invalid_rate=0.05")
		if r.code != exitThreshold || calls.Load() != 2 {
			t.Fatalf("exit %d after %d posts: %s", r.code, calls.Load(), r.stderr)
		}
		if body := last.Load().(string); !strings.Contains(body, "eventaudit FAILED: main.events") || !strings.Contains(body, "Since the previous run") {
			t.Errorf("payload: %.400s", body)
		}
	})
	t.Run("a Slack outage exits 3 and keeps the results", func(t *testing.T) {
		srv, calls, _ := fakeSlack(t, func(_ int32, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
		before := runsCount()
		r := audit(map[string]string{"SLACK_BOT_TOKEN": token, "EVENTAUDIT_SLACK_API_URL": srv.URL + "/api/"},
			"--slack", "always", "--slack-channel", "#dq")
		if r.code != exitRuntime || !strings.Contains(r.stderr, "the audit's results are committed") {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		if calls.Load() != 4 {
			t.Errorf("%d attempts, want 4", calls.Load())
		}
		if runsCount() != before || runsCount() == 0 {
			t.Errorf("runs table changed from %d to %d rows: the run must be committed and replace its window", before, runsCount())
		}
		if strings.Contains(r.stderr+r.stdout, token) {
			t.Error("the bot token leaked")
		}
	})
	t.Run("a runtime error posts an error digest", func(t *testing.T) {
		srv, calls, last := fakeSlack(t, slackOK)
		c.env = nil
		r := audit(map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/hook"}, "--table", "no_such_table")
		if r.code != exitRuntime || calls.Load() != 1 || !strings.Contains(last.Load().(string), "no_such_table not found") {
			t.Errorf("exit %d, %d posts, body %v", r.code, calls.Load(), last.Load())
		}
	})
	t.Run("never means never", func(t *testing.T) {
		srv, calls, _ := fakeSlack(t, slackOK)
		r := audit(map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/hook"}, "--slack", "never", "--fail-on", "invalid_rate=0.01")
		if r.code != exitThreshold || calls.Load() != 0 {
			t.Errorf("exit %d, %d posts", r.code, calls.Load())
		}
	})
}

// The error digest of a Segment-layout run names its source, not the empty
// --table.
func TestSlackErrorDigestNamesTheSegmentSource(t *testing.T) {
	srv, calls, last := fakeSlack(t, slackOK)
	c := newCLI()
	c.env["SLACK_WEBHOOK_URL"] = srv.URL + "/hook"
	r := c.run("audit", "--warehouse", "duckdb://"+filepath.Join(t.TempDir(), "seg.duckdb"), "--layout", "segment",
		"--source", "web_prod", "--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop", "--since", "24h")
	if r.code != exitRuntime || calls.Load() != 1 {
		t.Fatalf("exit %d after %d posts: %s", r.code, calls.Load(), r.stderr)
	}
	if body := last.Load().(string); !strings.Contains(body, "eventaudit error: segment:web_prod") {
		t.Errorf("the digest must name the source: %.300s", body)
	}
}
