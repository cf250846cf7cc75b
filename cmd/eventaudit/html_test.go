package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/eventaudit/eventaudit/reports/browsertest"
	"github.com/eventaudit/eventaudit/schemas/s3fs/s3test"
	"github.com/google/go-cmp/cmp"
)

// section is one <section id=…> of a page.
func section(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section id="` + id + `".*?</section>`).FindString(page)
	if m == "" {
		t.Fatalf("the page has no section %q", id)
	}
	return m
}

// demoAudits loads the demo into a new DuckDB file and returns an audit of
// a window of it, with further flags.
func demoAudits(t *testing.T, dir string) (c *cli, wh string, audit func(since, until string, extra ...string) result) {
	t.Helper()
	wh = "duckdb://" + filepath.Join(dir, "demo.duckdb")
	c = newCLI()
	if r := c.run("load", "--warehouse", wh, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return c, wh, func(since, until string, extra ...string) result {
		args := append([]string{"audit", "--warehouse", wh, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", since, "--until", until, "--format", "json"}, extra...)
		return c.run(args...)
	}
}

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Six hourly audits of the demo, each drawing its page: the last page's
// chart has a point per run, report --run draws the same page from the
// result tables, and an older run whose violations a later run replaced
// says so.
func TestHTMLPageOfAHistory(t *testing.T) {
	dir := t.TempDir()
	c, wh, audit := demoAudits(t, dir)
	const runs = 6
	for h := range runs {
		r := audit(fmt.Sprintf("2026-11-20T%02d:00:00Z", h), fmt.Sprintf("2026-11-20T%02d:00:00Z", h+1),
			"--html", filepath.Join(dir, "{run_id}.html"))
		if r.code != 0 {
			t.Fatalf("hour %d: exit %d: %s", h, r.code, r.stderr)
		}
	}
	last := fmt.Sprintf("run-%04d", runs)
	page := readPage(t, filepath.Join(dir, last+".html"))
	if n := strings.Count(section(t, page, "trend"), `class="point" data-run=`); n < runs {
		t.Errorf("the chart has %d points in all, fewer than the %d runs", n, runs)
	}
	all := regexp.MustCompile(`(?s)<g class="series series-all".*?</g>`).FindString(page)
	if n := strings.Count(all, `class="point"`); n != runs {
		t.Errorf("the source's line has %d points, want one per run: %d", n, runs)
	}
	if !strings.Contains(page, "SELECT * FROM") || !strings.Contains(page, "eventaudit_violations") {
		t.Error("the page offers no query for a check's rows")
	}

	// report draws the same run from the result tables.
	r := c.run("report", "--warehouse", wh, "--run", last, "--html", filepath.Join(dir, "report.html"))
	if r.code != 0 {
		t.Fatalf("report: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "trend over 6 runs") {
		t.Errorf("report says %q", r.stdout)
	}
	report := readPage(t, filepath.Join(dir, "report.html"))
	for _, id := range []string{"totals", "trend", "events", "checks", "unplanned"} {
		if d := cmp.Diff(section(t, page, id), section(t, report, id)); d != "" {
			t.Errorf("section %s: the audit's page and report's differ (-audit +report):\n%s", id, d)
		}
	}
	// With no --run, the newest run.
	if r := c.run("report", "--warehouse", wh, "--html", filepath.Join(dir, "newest.html")); r.code != 0 || !strings.Contains(r.stdout, last) {
		t.Errorf("report without --run: exit %d, %q, want run %s", r.code, r.stdout, last)
	}

	// A run over half of hour 0 replaces that half's violations of run 1.
	if r := audit("2026-11-20T00:30:00Z", "2026-11-20T01:30:00Z", "--label", "adhoc"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := c.run("report", "--warehouse", wh, "--run", "run-0001", "--html", filepath.Join(dir, "old.html")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if old := readPage(t, filepath.Join(dir, "old.html")); !strings.Contains(old, "were since replaced") {
		t.Error("a run whose violations a later run replaced does not say so")
	}

	// A run id that does not exist is a usage error naming those that do.
	r = c.run("report", "--warehouse", wh, "--run", "run-9999", "--html", filepath.Join(dir, "x.html"))
	if r.code != exitUsage || !strings.Contains(r.stderr, `no run "run-9999"`) || !strings.Contains(r.stderr, last) {
		t.Errorf("unknown run: exit %d, stderr %q; want 2 naming %s", r.code, r.stderr, last)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.html")); err == nil {
		t.Error("an unknown run still wrote a page")
	}

	// The real page in a real browser.
	p := browsertest.Open(t, filepath.Join(dir, "report.html"), 1280, 900)
	if n := len(p.Nodes("#trend-chart .series-all .point")); n != runs {
		t.Errorf("in the browser, the chart has %d points for the source, want %d", n, runs)
	}
	if !p.Visible("#checks table") || !p.Visible("#trend-chart svg") {
		t.Error("the checks or the chart are not visible")
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("the browser logged:\n  %s", strings.Join(problems, "\n  "))
	}
}

// report reads a run's drift back from eventaudit_property_stats: what
// was sent but not planned and the mixed types, as the audit's own page
// lists them; unseen properties need the plan, and the page says so.
func TestReportReadsDriftFromTables(t *testing.T) {
	dir := t.TempDir()
	c, wh, audit := demoAudits(t, dir)
	if r := audit("2026-11-20", "2026-11-21", "--html", filepath.Join(dir, "audit.html")); r.code > 1 {
		t.Fatalf("audit: exit %d: %s", r.code, r.stderr)
	}
	if r := c.run("report", "--warehouse", wh, "--html", filepath.Join(dir, "report.html")); r.code != 0 {
		t.Fatalf("report: exit %d: %s", r.code, r.stderr)
	}
	page, report := readPage(t, filepath.Join(dir, "audit.html")), readPage(t, filepath.Join(dir, "report.html"))
	driftRows := func(page, title string) []string {
		return regexp.MustCompile(`<tr><td>`+title+`</td>.*</tr>`).FindAllString(section(t, page, "drift"), -1)
	}
	for _, title := range []string{"Sent but not in the plan", "Mixed types"} {
		want := driftRows(page, title)
		if len(want) == 0 {
			t.Errorf("the audit's page lists no drift of kind %q", title)
		}
		if d := cmp.Diff(want, driftRows(report, title)); d != "" {
			t.Errorf("drift %q: the audit's page and report's differ (-audit +report):\n%s", title, d)
		}
	}
	if !strings.Contains(section(t, report, "drift"), "/properties/variant") {
		t.Error("report does not list Product Added's undeclared variant")
	}
	if n := driftRows(report, "In the plan, never sent"); len(n) > 0 || !strings.Contains(section(t, report, "drift"), "does not hold the plan") {
		t.Errorf("report lists %d unseen properties, or does not say the tables cannot tell them", len(n))
	}

	// A run that kept no profile has no drift to read back.
	if r := audit("2026-11-20", "2026-11-21", "--profile=false"); r.code > 1 {
		t.Fatalf("audit: exit %d: %s", r.code, r.stderr)
	}
	if r := c.run("report", "--warehouse", wh, "--html", filepath.Join(dir, "none.html")); r.code != 0 {
		t.Fatalf("report: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(readPage(t, filepath.Join(dir, "none.html")), `<section id="drift"`) {
		t.Error("a run without a profile draws a drift section")
	}
}

// A first run draws no trend and says so; a page that cannot be written
// leaves the run committed and exits 3; a page goes to S3.
func TestHTMLPageEdges(t *testing.T) {
	dir := t.TempDir()
	c, wh, auditWindow := demoAudits(t, dir)
	audit := func(env map[string]string, html string) result {
		c.env = env
		return auditWindow("2026-11-20", "2026-11-21", "--html", html)
	}
	if r := audit(nil, filepath.Join(dir, "first.html")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if first := readPage(t, filepath.Join(dir, "first.html")); !strings.Contains(first, `id="no-trend"`) || strings.Contains(first, `id="trend-chart"`) {
		t.Error("a first run must say there is no trend yet, and draw no chart")
	}

	r := audit(nil, filepath.Join(dir, "missing", "page.html"))
	if r.code != exitRuntime || !strings.Contains(r.stderr, "results are committed") {
		t.Errorf("unwritable page: exit %d, stderr %q; want 3 saying the results are committed", r.code, r.stderr)
	}
	if r := c.run("runs", "--warehouse", wh); !strings.Contains(r.stdout, "run-0002") {
		t.Errorf("the run whose page failed is not in the history:\n%s", r.stdout)
	}

	srv := s3test.Start(t)
	client := srv.Client()
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bi-reports")}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EVENTAUDIT_S3_ENDPOINT": srv.URL, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_REGION": "eu-west-1"}
	if r := audit(env, "s3://bi-reports/eventaudit/{run_id}.html"); r.code != 0 {
		t.Fatalf("upload: exit %d: %s", r.code, r.stderr)
	}
	obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bi-reports"), Key: aws.String("eventaudit/run-0003.html")})
	if err != nil {
		t.Fatalf("the page is not in the bucket: %v", err)
	}
	defer obj.Body.Close()
	body, _ := io.ReadAll(obj.Body)
	if !strings.HasPrefix(string(body), "<!DOCTYPE html>") || !strings.HasPrefix(aws.ToString(obj.ContentType), "text/html") {
		t.Errorf("uploaded %q as %.40q", aws.ToString(obj.ContentType), body)
	}
	if r := audit(env, "s3://no-such-bucket/p.html"); r.code != exitRuntime || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing bucket: exit %d, stderr %q", r.code, r.stderr)
	}
}
