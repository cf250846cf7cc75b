package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/slack-go/slack"
)

func slackSummaries() map[string]*audit.Summary {
	base := summaries()
	withTrend := *base["failing"]
	withTrend.Events = append([]audit.EventSummary(nil), withTrend.Events...)
	prevStart := withTrend.Run.Window.Start.Add(-24 * time.Hour)
	withTrend.WithPrevious(&audit.Previous{
		Run: audit.Run{RunID: "20261120T020000Z-99999999", Source: withTrend.Run.Source,
			Window:      audit.Window{Start: prevStart, End: withTrend.Run.Window.Start},
			RowsScanned: 9000, RowsInvalid: 900, RowsUnplanned: 50, Violations: 950, Status: audit.StatusFailed},
		Stats: []audit.EventStats{{EventType: "", EventName: "", Rows: 3, InvalidRows: 3}},
	})

	// Hundreds of failing events and unplanned names: the digest must cut.
	many := &audit.Summary{Run: base["failing"].Run}
	many.Run.RowsScanned, many.Run.RowsInvalid, many.Run.RowsUnplanned = 100000, 30000, 5000
	for i := range 300 {
		many.Events = append(many.Events, audit.EventSummary{Type: "track", Name: fmt.Sprintf("Event %03d %s", i, strings.Repeat("x", 40)),
			SchemaID: fmt.Sprintf("shop/Event %03d/1-0.json", i), Rows: 1000, InvalidRows: int64(300 - i), Violations: int64(300 - i),
			TopCheck: audit.Check{Keyword: "type", Path: "/properties/price"}, TopCheckCount: int64(300 - i),
			Example: &audit.Violation{Message: strings.Repeat("expected number, but got string ", 20)}})
	}
	for i := range 200 {
		many.Events = append(many.Events, audit.EventSummary{Type: "track", Name: fmt.Sprintf("Unplanned Thing %03d", i), Unplanned: true, Rows: int64(1000 - i)})
	}
	// A run that skipped a schema file that does not compile.
	broken := *base["clean"]
	broken.Events = append(append([]audit.EventSummary(nil), broken.Events...), audit.EventSummary{Name: "Broken",
		SchemaID: "shop/Broken/1-0.json", Violations: 1, TopCheck: audit.Check{Keyword: audit.KeywordSchemaFile}, TopCheckCount: 1,
		Example: &audit.Violation{Keyword: audit.KeywordSchemaFile, Message: "schema file shop/Broken/1-0.json does not compile"}})
	return map[string]*audit.Summary{"clean": base["clean"], "failing-trend": &withTrend, "hundreds": many, "broken-schema": &broken,
		"stale": base["stale"], "warned": base["warned"]}
}

func slackOpts() reports.SlackOptions {
	return reports.SlackOptions{ViolationsTable: "eventaudit.eventaudit_violations"}
}

func TestSlackGolden(t *testing.T) {
	for name, s := range slackSummaries() {
		t.Run(name, func(t *testing.T) {
			msg := reports.SlackMessage(s, slackOpts())
			payload, err := json.MarshalIndent(slack.WebhookMessage{Text: msg.Text, Blocks: &msg.Blocks}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "slack-"+name+".json", append(payload, '\n'))
			checkSlackLimits(t, payload)
		})
	}
}

// checkSlackLimits re-reads the payload the way Slack would and checks its
// documented limits.
func checkSlackLimits(t *testing.T, payload []byte) {
	t.Helper()
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string                  `json:"type"`
			Text     *struct{ Text string }  `json:"text"`
			Fields   []struct{ Text string } `json:"fields"`
			Elements []struct{ Text string } `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks, Slack allows 50", len(m.Blocks))
	}
	for i, b := range m.Blocks {
		if b.Text != nil {
			limit := 3000
			if b.Type == "header" {
				limit = 150
			}
			if n := len([]rune(b.Text.Text)); n > limit {
				t.Errorf("block %d (%s): %d characters, limit %d", i, b.Type, n, limit)
			}
		}
		if len(b.Fields) > 10 {
			t.Errorf("block %d: %d fields", i, len(b.Fields))
		}
		for _, f := range b.Fields {
			if len([]rune(f.Text)) > 2000 {
				t.Errorf("block %d: a field of %d characters", i, len([]rune(f.Text)))
			}
		}
	}
}

func TestSlackTruncatesWithAndMore(t *testing.T) {
	msg := reports.SlackMessage(slackSummaries()["hundreds"], slackOpts())
	b, _ := json.Marshal(msg.Blocks)
	s := string(b)
	for _, want := range []string{"Top 10 of 300 failing events", "…and 290 more failing events", "more\"", "Event 000", "Event 009"} {
		if !strings.Contains(s, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	if strings.Contains(s, "Event 010") {
		t.Error("an 11th event was listed with --slack-top 10")
	}
	wide := reports.SlackMessage(slackSummaries()["hundreds"], reports.SlackOptions{TopN: 500})
	if n := len(wide.Blocks.BlockSet); n > 50 {
		t.Errorf("--slack-top 500 made %d blocks", n)
	}
}

// recorder is a Slack stand-in on 127.0.0.1: it records each request and
// answers from a script.
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	answer   func(n int, w http.ResponseWriter)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.bodies = append(r.bodies, string(body))
	n := len(r.requests)
	r.mu.Unlock()
	r.answer(n, w)
}

func ok(_ int, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true,"channel":"C1","ts":"1.2"}`)
}

// sentBlocks pulls the blocks out of a webhook (JSON) or chat.postMessage
// (form) request.
func sentBlocks(t *testing.T, req *http.Request, body string) string {
	t.Helper()
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		var m struct{ Blocks json.RawMessage }
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		return compact(t, m.Blocks)
	}
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	return compact(t, []byte(form.Get("blocks")))
}

func compact(t *testing.T, b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("blocks are not JSON: %v: %s", err, b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestWebhookAndBotPostTheSameDigest(t *testing.T) {
	msg := reports.SlackMessage(slackSummaries()["failing-trend"], slackOpts())
	rec := &recorder{answer: ok}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	const token = "xoxb-123-secret-token"
	if err := (reports.SlackTarget{WebhookURL: srv.URL + "/services/T/B/X"}).Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if err := (reports.SlackTarget{BotToken: token, Channel: "#data-quality", APIURL: srv.URL + "/api/"}).Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if len(rec.requests) != 2 {
		t.Fatalf("%d requests", len(rec.requests))
	}
	if p := rec.requests[1].URL.Path; p != "/api/chat.postMessage" {
		t.Errorf("bot path %s", p)
	}
	// slack-go sends chat.postMessage's token in the form, not a header.
	form, _ := url.ParseQuery(rec.bodies[1])
	if form.Get("token") != token || form.Get("channel") != "#data-quality" {
		t.Errorf("bot form: token %q channel %q", form.Get("token"), form.Get("channel"))
	}
	web, bot := sentBlocks(t, rec.requests[0], rec.bodies[0]), sentBlocks(t, rec.requests[1], rec.bodies[1])
	if web != bot {
		t.Errorf("the two paths sent different blocks:\nwebhook %s\nbot     %s", web, bot)
	}
	if !strings.Contains(web, "Since the previous run") || !strings.Contains(web, ":new: new since the last run") {
		t.Errorf("the trend is missing from the digest: %s", web)
	}
}

func TestDeliveryFaults(t *testing.T) {
	msg := reports.SlackMessage(slackSummaries()["clean"], slackOpts())
	for _, tc := range []struct {
		name      string
		answer    func(n int, w http.ResponseWriter)
		wantErr   string
		wantCalls int
		wantWaits []time.Duration
	}{
		{"429 then 200", func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			ok(n, w)
		}, "", 2, []time.Duration{7 * time.Second}},
		{"429 asking for longer than eventaudit waits", func(_ int, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, "asked to retry after 1h0m0s, longer than the 30s eventaudit waits; not retried", 1, nil},
		{"404 whose body repeats the webhook's path", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "no_service: /services/T0/B0/s3cr3tw3bh00k")
		}, "no_service", 1, nil},
		{"500 every time", func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
			"500", 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"400 with a reason", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "invalid_blocks")
		}, "invalid_blocks", 1, nil},
		{"hangs past the timeout", func(_ int, w http.ResponseWriter) { time.Sleep(400 * time.Millisecond); ok(0, w) },
			"Slack did not answer within 100ms, 4 times", 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: tc.answer}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			var waits []time.Duration
			target := reports.SlackTarget{WebhookURL: srv.URL + "/services/T0/B0/s3cr3tw3bh00k", Timeout: 100 * time.Millisecond,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			err := target.Post(context.Background(), msg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want delivery, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error saying %q, got %v", tc.wantErr, err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3tw3bh00k") {
				t.Errorf("the webhook URL leaked: %v", err)
			}
			if len(rec.requests) != tc.wantCalls {
				t.Errorf("%d attempts, want %d", len(rec.requests), tc.wantCalls)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waited %v, want %v", waits, tc.wantWaits)
			}
		})
	}
}
