package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The sections that are not settings reach the command: the events
// mapping, lint rules over Reflekt's defaults, and Slack's secrets beside
// the Slack settings.
func TestConfigSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventaudit.yml")
	yml := `warehouse: duckdb://x
events:
  Order Completed: shop/Order Completed/1-1.json
lint:
  require_descriptions: true
slack:
  mode: always
  webhook_url: https://hooks.slack.com/services/T0/B0/secret
  bot_token: xoxb-secret
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Events["Order Completed"]; got != "shop/Order Completed/1-1.json" {
		t.Errorf("events: %q", got)
	}
	if !cfg.Lint.RequireDescriptions {
		t.Error("lint.require_descriptions was not read")
	}
	if cfg.Slack.WebhookURL != "https://hooks.slack.com/services/T0/B0/secret" || cfg.Slack.BotToken != "xoxb-secret" {
		t.Errorf("slack secrets: %+v", cfg.Slack)
	}
	if got := cfg.values["slack.mode"]; len(got) != 1 || got[0] != "always" {
		t.Errorf("slack.mode: %q", got)
	}
}
