package main

import (
	"context"
	"fmt"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/slack-go/slack"
)

// notifySlack posts the digest when the mode asks for it and returns the
// command's final error: the audit's own, errThreshold, or the delivery
// failure.
func notifySlack(ctx context.Context, d *deps, o *auditOptions, summary *audit.Summary, auditErr error) error {
	result := auditErr
	if auditErr == nil && summary != nil && len(summary.Breaches) > 0 {
		result = errThreshold
	}
	target := reports.SlackTarget{WebhookURL: o.slackWebhook, BotToken: o.slackToken, Channel: o.SlackChannel,
		APIURL: d.getenv("EVENTAUDIT_SLACK_API_URL"), Sleep: d.sleep}
	failed := result != nil && exitCode(result) != exitInterrupted && exitCode(result) != exitUsage
	// A warning exits 0 but is posted: that is what makes it a warning.
	failed = failed || (summary != nil && len(summary.Warnings) > 0)
	if o.Slack == "never" || !target.Configured() || (o.Slack == "failure" && !failed) || ctx.Err() != nil {
		return result
	}
	var msg slack.Msg
	if summary != nil {
		msg = reports.SlackMessage(summary, o.slackOptions())
	} else {
		msg = reports.SlackError(o.sourceLabel(), d.redact(auditErr.Error()))
	}
	if err := target.Post(ctx, msg); err != nil {
		note := "the audit's results are committed"
		switch {
		case summary == nil:
			note = "the audit itself failed too"
		case o.DryRun:
			note = "it was a dry run"
		}
		d.logger.Error("slack digest not delivered", "err", d.redact(err.Error()))
		if auditErr != nil {
			return auditErr
		}
		return fmt.Errorf("%w (%s; exit 3 so that a retry re-posts it)", err, note)
	}
	return result
}
