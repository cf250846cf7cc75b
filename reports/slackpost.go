package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/eventaudit/eventaudit/redact"
	"github.com/slack-go/slack"
)

// SlackTarget is where a digest goes: an incoming webhook, or a bot token
// and a channel. Delivery retries 429 (honouring Retry-After) and 5xx with
// bounded backoff.
type SlackTarget struct {
	WebhookURL string
	BotToken   string
	Channel    string
	// APIURL overrides https://slack.com/api/ (tests); keep the trailing slash.
	APIURL string
	// Timeout bounds each attempt; 0 means 10s.
	Timeout time.Duration
	// Attempts in all; 0 means 4. MaxDelay caps each wait; 0 means 30s.
	Attempts int
	MaxDelay time.Duration
	// Sleep waits between attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Configured reports whether there is anywhere to post.
func (t SlackTarget) Configured() bool {
	return t.WebhookURL != "" || (t.BotToken != "" && t.Channel != "")
}

// Post delivers msg. The error never contains the webhook URL or token.
func (t SlackTarget) Post(ctx context.Context, msg slack.Msg) error {
	attempts, maxDelay, timeout := t.Attempts, t.MaxDelay, t.Timeout
	if attempts <= 0 {
		attempts = 4
	}
	if maxDelay <= 0 {
		maxDelay = 30 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	sleep := t.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	body := &lastBody{}
	client := &http.Client{Timeout: timeout, Transport: body}
	delay := time.Second
	var err error
	for attempt := 1; ; attempt++ {
		err = t.postOnce(ctx, client, msg)
		if err == nil {
			return nil
		}
		wait, retry := retryable(err, delay)
		if !retry || attempt == attempts || ctx.Err() != nil {
			break
		}
		if wait > maxDelay {
			// Waiting less than Slack asked would only be refused again;
			// say so rather than report a wait that never happened.
			err = fmt.Errorf("Slack rate-limited the digest and asked to retry after %s, longer than the %s eventaudit waits; not retried", wait, maxDelay)
			break
		}
		if err := sleep(ctx, wait); err != nil {
			break
		}
		delay = min(delay*2, maxDelay)
	}
	if isTimeout(err) && ctx.Err() == nil {
		err = fmt.Errorf("Slack did not answer within %s, %d times", timeout, attempts)
	}
	return t.describe("post the Slack digest", err, body.get())
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func (t SlackTarget) postOnce(ctx context.Context, client *http.Client, msg slack.Msg) error {
	if t.WebhookURL != "" {
		return slack.PostWebhookCustomHTTPContext(ctx, t.WebhookURL, client,
			&slack.WebhookMessage{Text: msg.Text, Blocks: &msg.Blocks})
	}
	opts := []slack.Option{slack.OptionHTTPClient(client)}
	if t.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(t.APIURL))
	}
	_, _, err := slack.New(t.BotToken, opts...).PostMessageContext(ctx, t.Channel,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks.BlockSet...))
	return err
}

// retryable: rate limits wait as told; server errors and timeouts back off.
func retryable(err error, backoff time.Duration) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	switch {
	case errors.As(err, &rl):
		return max(rl.RetryAfter, time.Second), true
	case errors.As(err, &sc):
		return backoff, sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
	case isTimeout(err):
		return backoff, true
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return 0, false // channel_not_found, invalid_auth…: retrying will not help
	}
	return backoff, false
}

func (t SlackTarget) describe(action string, err error, lastBody string) error {
	r := &redact.Redactor{}
	r.Add(t.WebhookURL, t.BotToken)
	msg := err.Error()
	// slack-go drops the reason Slack gives with a 400 (invalid_blocks…).
	if lastBody != "" && !strings.Contains(msg, lastBody) {
		msg += ": " + lastBody
	}
	// Slack's body may repeat the webhook's path; net/http prints the URL
	// normalised: mask every form.
	msg = r.String(msg)
	how := "webhook"
	if t.WebhookURL == "" {
		how = "bot token, channel " + t.Channel
	}
	return fmt.Errorf("%s (%s): %s", action, how, msg)
}

// lastBody keeps the start of the last non-2xx response body.
type lastBody struct {
	mu   sync.Mutex
	body string
}

func (l *lastBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	l.mu.Lock()
	l.body = strings.TrimSpace(string(b))
	if strings.HasPrefix(l.body, "<") { // an HTML error page says nothing useful
		l.body = ""
	}
	l.mu.Unlock()
	return resp, nil
}

func (l *lastBody) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.body
}

// Check tells whether the target would accept a digest, without posting
// one: a bot token through auth.test; a webhook by posting an empty
// payload, which Slack refuses with no_text (or invalid_payload) when the
// webhook is alive and with no_service or invalid_token when it is not.
// The error never contains the webhook URL or token.
func (t SlackTarget) Check(ctx context.Context) (string, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout}
	if t.WebhookURL == "" {
		opts := []slack.Option{slack.OptionHTTPClient(client)}
		if t.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(t.APIURL))
		}
		resp, err := slack.New(t.BotToken, opts...).AuthTestContext(ctx)
		if err != nil {
			return "", t.describe("check Slack", err, "")
		}
		return fmt.Sprintf("bot token of %s in workspace %s; digests go to %s", resp.User, resp.Team, t.Channel), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.WebhookURL, strings.NewReader("{}"))
	if err != nil {
		return "", t.describe("check Slack", err, "")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", t.describe("check Slack", err, "")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	body := strings.TrimSpace(string(b))
	switch {
	case resp.StatusCode == http.StatusBadRequest && (body == "no_text" || body == "invalid_payload"):
		return "webhook accepted by Slack (checked with an empty message, which Slack refuses without posting)", nil
	case resp.StatusCode < 300:
		// Something answered 2xx to an empty message: not Slack.
		return "", t.describe("check Slack", fmt.Errorf("the webhook answered %s to an empty message, which Slack refuses; is it a Slack incoming webhook?", resp.Status), "")
	}
	if strings.HasPrefix(body, "<") {
		body = ""
	}
	return "", t.describe("check Slack", fmt.Errorf("slack answered %s", resp.Status), body)
}
