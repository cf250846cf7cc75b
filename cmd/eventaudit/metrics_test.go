package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// pushgateway is an in-process stand-in for the Pushgateway's push API on
// loopback: it keeps the last body each group was sent, parsed by the
// Prometheus client's own text parser.
type pushgateway struct {
	*httptest.Server
	mu     sync.Mutex
	groups map[string]map[string]*dto.MetricFamily // "PUT /metrics/job/…" → families
	errs   []string
}

func newPushgateway(t *testing.T) *pushgateway {
	g := &pushgateway{groups: map[string]map[string]*dto.MetricFamily{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
		if err != nil {
			g.errs = append(g.errs, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.groups[r.Method+" "+r.URL.Path] = families
	}))
	t.Cleanup(g.Close)
	return g
}

// value is the series of family name whose labels include want.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue series
			}
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no series of %s with labels %v", name, want)
	return 0
}

type auditJSON struct {
	Status      string `json:"status"`
	RowsScanned int64  `json:"rows_scanned"`
	RowsInvalid int64  `json:"rows_invalid"`
	Violations  int64  `json:"violations"`
	Events      []struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		Rows        int64  `json:"rows"`
		InvalidRows int64  `json:"invalid_rows"`
	} `json:"events"`
}

// A run pushes its totals, its verdict and each event's rows to the
// Pushgateway, replacing its source's group, and writes the same numbers,
// labelled with its source, to an OpenMetrics file.
func TestMetricsPushAndFile(t *testing.T) {
	gw := newPushgateway(t)
	dir := t.TempDir()
	_, _, audit := demoAudits(t, dir)
	file := filepath.Join(dir, "eventaudit_{source}.prom")
	r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--fail-on", "invalid_rate=0.01",
		"--metrics-push", gw.URL, "--metrics-file", file)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (over invalid_rate): %s", r.code, r.stderr)
	}
	var sum auditJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if len(gw.errs) > 0 {
		t.Fatalf("the gateway could not parse the push: %v", gw.errs)
	}
	pushed, ok := gw.groups["PUT /metrics/job/eventaudit/source/main.events"]
	if !ok {
		t.Fatalf("no PUT to the source's group; got %v", gw.groups)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "eventaudit_main.events.prom"))
	if err != nil {
		t.Fatalf("the metrics file ({source} substituted): %v", err)
	}
	if !strings.HasSuffix(string(raw), "# EOF\n") {
		t.Errorf("the file is not OpenMetrics (no # EOF):\n%s", raw)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	written, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses the file: %v\n%s", err, raw)
	}

	for where, families := range map[string]map[string]*dto.MetricFamily{"pushed": pushed, "file": written} {
		labels := map[string]string{}
		if where == "file" {
			labels["source"] = "main.events" // no grouping key in a file
		}
		with := func(extra map[string]string) map[string]string {
			m := map[string]string{}
			for k, v := range labels {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		for name, want := range map[string]int64{"eventaudit_rows_scanned": sum.RowsScanned,
			"eventaudit_rows_invalid": sum.RowsInvalid, "eventaudit_violations": sum.Violations} {
			if got := value(t, families, name, labels); got != float64(want) {
				t.Errorf("%s: %s = %v, the report says %d", where, name, got, want)
			}
		}
		if got := value(t, families, "eventaudit_run_status", with(map[string]string{"status": "failed"})); got != 1 {
			t.Errorf("%s: status failed = %v, want 1", where, got)
		}
		if got := value(t, families, "eventaudit_run_status", with(map[string]string{"status": "passed"})); got != 0 {
			t.Errorf("%s: status passed = %v, want 0", where, got)
		}
		rows := map[[2]string]int64{}
		invalid := map[[2]string]int64{}
		for _, e := range sum.Events {
			rows[[2]string{e.Type, e.Name}] += e.Rows
			invalid[[2]string{e.Type, e.Name}] += e.InvalidRows
		}
		k := [2]string{"track", "Product Added"}
		if got := value(t, families, "eventaudit_event_invalid_rows", with(map[string]string{"event_type": k[0], "event_name": k[1]})); got != float64(invalid[k]) || got == 0 {
			t.Errorf("%s: Product Added invalid rows = %v, the report says %d", where, got, invalid[k])
		}
		if n := len(families["eventaudit_event_rows"].GetMetric()); n != len(rows) {
			t.Errorf("%s: %d event series, want one per event type and name (%d)", where, n, len(rows))
		}
	}
}

// Metrics are a side channel: a gateway that is down, or one that refuses
// the push, warns; the run's results are written and its exit status is
// what it would have been.
func TestMetricsOutageWarns(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "pushgateway is shutting down", http.StatusServiceUnavailable)
	}))
	defer refusing.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close() // nothing listens there now

	for name, url := range map[string]string{"down": down, "refusing": refusing.URL} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c, wh, audit := demoAudits(t, dir)
			r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--fail-on", "invalid_rate=1",
				"--metrics-push", url, "--metrics-file", filepath.Join(dir, "no-such-folder", "x.prom"))
			if r.code != 0 {
				t.Fatalf("exit %d, want 0 (the audit passed): %s", r.code, r.stderr)
			}
			for _, want := range []string{"metrics not pushed", "metrics file not written"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if runs := c.run("runs", "--warehouse", wh); !strings.Contains(runs.stdout, "passed") {
				t.Errorf("the run was not recorded:\n%s%s", runs.stdout, runs.stderr)
			}
		})
	}
}
