package reports_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/reports/browsertest"
)

// hostileName is an event name a page must show as text.
const hostileName = `<img src=x onerror=alert(1)> & "Checkout"`

// htmlPages are a failing run with five runs before it, the same run as
// the first of its source, and a dry run.
func htmlPages() map[string]reports.HTMLPage {
	base := summaries()["failing"]
	s := *base
	s.Events = append([]audit.EventSummary(nil), base.Events...)
	s.Events = append(s.Events, audit.EventSummary{Type: "track", Name: hostileName, SchemaID: "shop/Checkout/1-0.json",
		Rows: 400, InvalidRows: 40, Violations: 40, TopCheck: audit.Check{Keyword: "required", Path: "/properties"}, TopCheckCount: 40})
	s.Run.RowsScanned += 400
	s.Run.RowsInvalid += 40
	s.Run.Violations += 40
	s.Checks = []audit.CheckSummary{
		{Type: "track", Name: "Product Viewed", SchemaID: "shop/Product Viewed/1-0.json", Check: audit.Check{Keyword: "enum", Path: "/properties/currency"},
			Violations: 1000, Example: audit.Violation{MessageID: "m-1", Keyword: "enum", InstancePath: "/properties/currency",
				Message: `value must be one of "USD", "EUR", "GBP"`, Value: `"usd"`}},
		{Type: "track", Name: "Product Viewed", SchemaID: "shop/Product Viewed/1-0.json", Check: audit.Check{Keyword: "type", Path: "/properties/price"},
			Violations: 300, Example: audit.Violation{MessageID: "m-7", Keyword: "type", InstancePath: "/properties/price",
				Message: "expected number, but got string", Value: `"12.99"`}},
		{Type: "track", Name: hostileName, SchemaID: "shop/Checkout/1-0.json", Check: audit.Check{Keyword: "required", Path: "/properties"},
			Violations: 40, Example: audit.Violation{MessageID: "m-<9>", Keyword: "required", InstancePath: "/properties",
				Message: "missing properties: 'order_id'"}},
		{Type: "", Name: "", Check: audit.Check{Keyword: "payload"}, Violations: 3,
			Example: audit.Violation{MessageID: "m-2", Keyword: "payload", Message: "payload is NULL"}},
	}
	var history []audit.RunStats
	for i := 1; i <= 5; i++ {
		r := s.Run
		r.RunID = fmt.Sprintf("20261%03dT020000Z-prev%d", 120-i, i)
		r.Window = audit.Window{Start: s.Run.Window.Start.Add(-time.Duration(i) * 24 * time.Hour), End: s.Run.Window.End.Add(-time.Duration(i) * 24 * time.Hour)}
		r.FinishedAt = r.Window.End.Add(2 * time.Hour)
		r.RowsScanned, r.RowsInvalid = 10000, int64(20*i)
		stats := []audit.EventStats{
			{RunID: r.RunID, EventType: "track", EventName: "Product Viewed", SchemaID: "shop/Product Viewed/1-0.json", Rows: 9000, InvalidRows: int64(20 * i)},
			{RunID: r.RunID, EventType: "track", EventName: "Size | Color Picked", Unplanned: true, Rows: 30},
		}
		if i != 3 { // the checkout event was missing from one night: a gap
			stats = append(stats, audit.EventStats{RunID: r.RunID, EventType: "track", EventName: hostileName,
				SchemaID: "shop/Checkout/1-0.json", Rows: 400, InvalidRows: 0})
		}
		history = append(history, audit.RunStats{Run: r, Stats: stats})
	}
	withTrend := s
	withTrend.Run.FinishedAt = s.Run.Window.End.Add(2 * time.Hour)
	withTrend.WithPrevious(&history[0])
	query := func(c audit.CheckSummary) string {
		return fmt.Sprintf("SELECT * FROM eventaudit.eventaudit_violations WHERE run_id = '%s' AND keyword = '%s'", s.Run.RunID, c.Keyword)
	}
	first := s
	return map[string]reports.HTMLPage{
		"trend":     {Summary: &withTrend, History: history, CheckQuery: query, Version: "v1.2.3"},
		"first-run": {Summary: &first, CheckQuery: query, Version: "v1.2.3"},
		"dry-run":   {Summary: summaries()["clean"], DryRun: true, Version: "v1.2.3"},
	}
}

func renderHTML(t *testing.T, p reports.HTMLPage) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := reports.HTML(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	for name, p := range htmlPages() {
		t.Run(name, func(t *testing.T) { golden(t, "html-"+name+".html", renderHTML(t, p)) })
	}
}

// What the page says, read as text: escaping, the trend's absence and the
// run's checks.
func TestHTMLSays(t *testing.T) {
	pages := htmlPages()
	trend := string(renderHTML(t, pages["trend"]))
	if strings.Contains(trend, "<img") || strings.Contains(trend, "<script") {
		t.Error("an event name reached the page as markup")
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "Failed threshold:", "SELECT * FROM eventaudit.eventaudit_violations",
		`class="new">new</span>`, "default-src &#39;none&#39;"} {
		if !strings.Contains(trend, want) && !strings.Contains(trend, strings.ReplaceAll(want, "&#39;", "'")) {
			t.Errorf("the trend page lacks %q", want)
		}
	}
	first := string(renderHTML(t, pages["first-run"]))
	if !strings.Contains(first, `id="no-trend"`) || strings.Contains(first, `id="trend-chart"`) {
		t.Error("a first run must say there is no trend yet, and draw no chart")
	}
	dry := string(renderHTML(t, pages["dry-run"]))
	if !strings.Contains(dry, "<strong>Dry run:</strong> nothing was written") || strings.Contains(dry, "SQL for all") {
		t.Error("a dry run must say nothing was written, and offer no query")
	}
}

// The page in a real browser, at a desktop's and a phone's width: it logs
// no error, asks no network for anything, shows its key parts, fits the
// phone's width, and draws one point per run.
func TestHTMLInChromium(t *testing.T) {
	dir := os.Getenv("EVENTAUDIT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	pages := htmlPages()
	for _, tc := range []struct {
		page          string
		width, height int64
		key           []string
	}{
		{"trend", 1280, 900, []string{"#status", "#totals .totals", "#trend-chart svg", "#events table", "#checks table", "#unplanned table", "#trend-chart .legend"}},
		{"trend", 390, 844, []string{"#status", "#totals .totals", "#trend-chart svg", "#events table", "#checks table", "#unplanned table"}},
		{"first-run", 390, 844, []string{"#status", "#no-trend", "#events table", "#checks table"}},
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.page, tc.width), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.page+".html")
			if err := os.WriteFile(file, renderHTML(t, pages[tc.page]), 0o644); err != nil {
				t.Fatal(err)
			}
			p := browsertest.Open(t, file, tc.width, tc.height)
			for _, sel := range tc.key {
				if !p.Visible(sel) {
					t.Errorf("%s is not visible at %dpx", sel, tc.width)
				}
			}
			var overflow bool
			p.Eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow)
			if overflow {
				t.Errorf("the page scrolls sideways at %dpx; only its tables may", tc.width)
			}
			var images int
			p.Eval(`document.querySelectorAll("img, script").length`, &images)
			if images != 0 {
				t.Errorf("the page holds %d img or script elements: an event name became markup", images)
			}
			wantRuns := 1 + len(pages[tc.page].History)
			if wantRuns > 1 {
				if n := len(p.Nodes("#trend-chart .series-all .point")); n != wantRuns {
					t.Errorf("the chart has %d points for the source, want one per run: %d", n, wantRuns)
				}
				if n := len(p.Nodes("#events .spark")); n == 0 {
					t.Error("no sparkline in the events table")
				}
			} else if n := len(p.Nodes("#trend-chart")); n != 0 {
				t.Error("a single run drew a chart")
			}
			shot := p.Screenshot()
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if w := img.Bounds().Dx(); w != int(tc.width) {
				t.Errorf("screenshot is %dpx wide, want %d", w, tc.width)
			}
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.png", tc.page, tc.width))
			if err := os.WriteFile(name, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, u := range p.Requests() {
				if !strings.HasPrefix(u, "file://") {
					t.Errorf("the page asked the network for %s", u)
				}
			}
			if problems := p.Problems(); len(problems) > 0 {
				t.Errorf("the browser logged:\n  %s", strings.Join(problems, "\n  "))
			}
		})
	}
}
