package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/redact"
)

const hookPath = "/services/T0ABCDEF1/B0ABCDEF2/Zx9s3cr3tW3bh00kT0k3n"

// Each way the attack got a webhook printed: every printed form of a
// configured secret is masked, and so is any Slack secret by its shape.
func TestRedactorMasksEveryForm(t *testing.T) {
	for _, c := range []struct {
		name, secret, printed string
	}{
		{"trailing newline from a secret file", "https://hooks.slack.com" + hookPath + "\n",
			`Post "https://hooks.slack.com` + hookPath + `": dial tcp: i/o timeout`},
		{"trailing space", "https://hooks.slack.com" + hookPath + " ",
			`Post "https://hooks.slack.com` + hookPath + `": EOF`},
		{"upper-case scheme, printed lower-case by net/http", "HTTP://127.0.0.1:9" + hookPath,
			`Post "http://127.0.0.1:9` + hookPath + `": connection refused`},
		{"Slack's error body repeats the path", "https://hooks.slack.com" + hookPath,
			`slack: 404 no_service: ` + hookPath},
		{"percent-encoded path", "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/a%2Fb%20secretvalue",
			`Post "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/a%2Fb%20secretvalue": EOF`},
		{"a bot token", "xoxb-1234-5678-abcdefSECRET", `invalid_auth for xoxb-1234-5678-abcdefSECRET`},
		{"a URL password", "postgres://app:hunter2pass@db:5432/x", `connect postgres://app:hunter2pass@db:5432/x failed`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &redact.Redactor{}
			r.Add(c.secret)
			got := r.String(c.printed)
			for _, leak := range []string{"Zx9s3cr3tW3bh00kT0k3n", "abcdefSECRET", "hunter2pass", "secretvalue"} {
				if strings.Contains(got, leak) {
					t.Errorf("%q leaks %q", got, leak)
				}
			}
			if !strings.Contains(got, redact.Mask) {
				t.Errorf("%q: nothing masked", got)
			}
		})
	}
}

// Shapes are masked even when nobody configured them: a webhook in an
// event's properties, a token in a library's message.
func TestShapesWithoutConfiguration(t *testing.T) {
	var r *redact.Redactor
	for in, leak := range map[string]string{
		`{"url":"https://hooks.slack.com` + hookPath + `"}`: "Zx9s3cr3t",
		"token xoxp-99-88-abc rejected":                     "xoxp-99",
		"app token xapp-1-A0-123-abc":                       "xapp-1",
		"redshift://etl:p4ssw0rd@cluster:5439/dev":          "p4ssw0rd",
	} {
		if got := r.String(in); strings.Contains(got, leak) {
			t.Errorf("%q leaks %q", got, leak)
		}
	}
	for _, keep := range []string{"s3://bucket/services/schemas", "GET /services/health", "window 2026-11-20T00:00:00Z"} {
		if got := r.String(keep); got != keep {
			t.Errorf("%q became %q: only secrets are masked", keep, got)
		}
	}
}

// Every log line goes through the handler: message, string attributes,
// errors, groups and attributes bound with With.
func TestHandlerRedactsLogLines(t *testing.T) {
	r := &redact.Redactor{}
	var buf bytes.Buffer
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), r))
	r.Add("https://hooks.slack.com" + hookPath + "\n")
	url := "https://hooks.slack.com" + hookPath
	_, err := http.NewRequest("POST", "HTTP://x", nil)
	log.With("hook", url).Error("post to "+url, "err", fmt.Errorf("wrapped: %w", errors.New(url)),
		slog.Group("slack", "target", url), "req_err", err)
	if out := buf.String(); strings.Contains(out, "Zx9s3cr3t") {
		t.Errorf("log line leaks the webhook: %s", out)
	}
}
