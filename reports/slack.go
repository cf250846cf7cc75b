package reports

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/slack-go/slack"
)

// Slack's Block Kit limits, from its reference.
const (
	slackMaxBlocks      = 50
	slackMaxHeaderChars = 150
	slackMaxTextChars   = 3000
	slackMaxFieldChars  = 2000
	slackMaxNotifyChars = 3000 // the top-level text shown in notifications
)

// SlackOptions shape the digest.
type SlackOptions struct {
	// TopN is how many failing events to list; 0 means 10.
	TopN int
	// ViolationsTable is the qualified table the footer's SQL queries.
	ViolationsTable string
	// LinkTemplate, when set, replaces the SQL footer with a link; {run_id}
	// and {source} are substituted, e.g. a BI dashboard URL.
	LinkTemplate string
}

// SlackMessage builds one Block Kit digest from the summary: a header,
// totals, the trend, the worst events with their worst check, unplanned
// events, and where to look next. It stays within Slack's limits however
// many events fail, saying "and N more" where it cuts.
func SlackMessage(s *audit.Summary, o SlackOptions) slack.Msg {
	r := s.Run
	topN := o.TopN
	if topN <= 0 {
		topN = 10
	}
	status := "passed"
	icon := ":white_check_mark:"
	switch r.Status {
	case audit.StatusFailed:
		status, icon = "FAILED", ":rotating_light:"
	case audit.StatusWarned:
		status, icon = "warning", ":warning:"
	}
	var blocks []slack.Block
	add := func(b ...slack.Block) { blocks = append(blocks, b...) }
	md := func(text string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, cut(text, slackMaxTextChars), false, false)
	}

	add(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		cut(fmt.Sprintf("%s eventaudit %s: %s", icon, status, r.Source), slackMaxHeaderChars), true, false)))
	ctx := fmt.Sprintf("Window %s · run `%s`", Window(r.Window), r.RunID)
	if r.Shard.Sharded() {
		ctx += " · shard " + r.Shard.String()
	}
	add(slack.NewContextBlock("", md(ctx)))
	field := func(label, value string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, cut("*"+label+"*\n"+value, slackMaxFieldChars), false, false)
	}
	add(slack.NewSectionBlock(nil, []*slack.TextBlockObject{
		field("Rows scanned", Count(r.RowsScanned)),
		field("Invalid rows", fmt.Sprintf("%s (%s)", Count(r.RowsInvalid), Percent(s.InvalidRate()))),
		field("Unplanned events", Count(r.RowsUnplanned)),
		field("Violations", Count(r.Violations)),
		field("Newest event", slackFreshness(s)),
		field("Duplicate message ids", fmt.Sprintf("%s (%s)", Count(r.DuplicateRows), Percent(s.DuplicateRate()))),
	}, nil))
	for _, list := range []struct {
		label    string
		breaches []audit.Breach
	}{{"Over threshold", s.Breaches}, {"Warning", s.Warnings}} {
		if len(list.breaches) == 0 {
			continue
		}
		var b []string
		for _, br := range list.breaches {
			b = append(b, "`"+br.String()+"`")
		}
		add(slack.NewSectionBlock(md("*"+list.label+":* "+strings.Join(b, ", ")), nil, nil))
	}
	if t := s.Trend(); t != nil {
		rel := ""
		if !math.IsNaN(t.RowsInvalidRel) {
			rel = fmt.Sprintf(" (%+.1f%%)", t.RowsInvalidRel*100)
		}
		add(slack.NewSectionBlock(md(fmt.Sprintf("*Since the previous run* `%s` (%s)\nInvalid rows %s%s · invalid rate %+.2f pp · unplanned %s · rows scanned %s",
			t.Previous.RunID, Window(t.Previous.Window), Signed(t.RowsInvalid), rel, t.InvalidRate*100,
			Signed(t.RowsUnplanned), Signed(t.RowsScanned))), nil, nil))
	} else {
		add(slack.NewContextBlock("", md("First run of this source: no trend yet.")))
	}

	var failing []audit.EventSummary
	for _, e := range s.Events {
		if e.InvalidRows > 0 {
			failing = append(failing, e)
		}
	}
	unplanned := s.Unplanned()
	// Blocks still needed after the events: divider, broken schemas,
	// unplanned, drift, footer, the "more" note.
	room := slackMaxBlocks - len(blocks) - 8
	shown := min(len(failing), topN, room)
	if len(failing) > 0 {
		add(slack.NewDividerBlock(), slack.NewSectionBlock(md(fmt.Sprintf("*Top %d of %d failing events, by invalid rows*", shown, len(failing))), nil, nil))
		for _, e := range failing[:shown] {
			add(slack.NewSectionBlock(md(slackEvent(e, s.Previous != nil)), nil, nil))
		}
		if more := len(failing) - shown; more > 0 {
			add(slack.NewContextBlock("", md(fmt.Sprintf("…and %s more failing events: see the violations table.", Count(int64(more))))))
		}
	}
	if broken := slackBrokenSchemas(s.Events); broken != "" {
		add(slack.NewSectionBlock(md(broken), nil, nil))
	}
	if len(unplanned) > 0 {
		add(slack.NewSectionBlock(md(slackUnplanned(unplanned)), nil, nil))
	}
	if drift := slackDrift(s.Drift); drift != "" {
		add(slack.NewSectionBlock(md(drift), nil, nil))
	}
	if o.LinkTemplate != "" {
		link := strings.NewReplacer("{run_id}", r.RunID, "{source}", r.Source).Replace(o.LinkTemplate)
		add(slack.NewContextBlock("", md(fmt.Sprintf("<%s|Open this run's violations>", link))))
	} else if o.ViolationsTable != "" {
		add(slack.NewSectionBlock(md(fmt.Sprintf("Query this run's violations:\n```SELECT event_name, keyword, instance_path, count(*)\nFROM %s\nWHERE run_id = '%s'\nGROUP BY 1, 2, 3 ORDER BY 4 DESC;```",
			o.ViolationsTable, r.RunID)), nil, nil))
	}
	text := fmt.Sprintf("eventaudit %s: %s: %s invalid of %s rows (%s)", status, r.Source, Count(r.RowsInvalid),
		Count(r.RowsScanned), Percent(s.InvalidRate()))
	return slack.Msg{Text: cut(text, slackMaxNotifyChars), Blocks: slack.Blocks{BlockSet: blocks}}
}

func slackEvent(e audit.EventSummary, hasPrevious bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · %s invalid of %s (%s)", slackEscape(EventLabel(e)), Count(e.InvalidRows), Count(e.Rows), Percent(e.InvalidRate()))
	if hasPrevious {
		if e.NewFailure {
			b.WriteString(" · :new: new since the last run")
		} else {
			fmt.Fprintf(&b, " · was %s", Count(e.PreviousInvalidRows))
		}
	}
	if e.TopCheckCount > 0 {
		fmt.Fprintf(&b, "\nWorst check: `%s` ×%s", CheckLabel(e.TopCheck), Count(e.TopCheckCount))
	}
	if e.Example != nil {
		fmt.Fprintf(&b, "\n> %s", slackEscape(cut(e.Example.Message, 200)))
	}
	return b.String()
}

// slackBrokenSchemas lists the schema files a run skipped because they do
// not compile (--on-bad-schema skip), or "".
func slackBrokenSchemas(events []audit.EventSummary) string {
	var files []string
	for _, e := range events {
		if e.TopCheck.Keyword == audit.KeywordSchemaFile {
			files = append(files, "`"+slackEscape(e.SchemaID)+"`")
		}
	}
	if len(files) == 0 {
		return ""
	}
	return cut(fmt.Sprintf("*%d schema file(s) do not compile* and were skipped; their events count as unplanned: %s",
		len(files), strings.Join(files, ", ")), 2900)
}

func slackUnplanned(events []audit.EventSummary) string {
	var b strings.Builder
	b.WriteString("*Unplanned events* (no schema)")
	for i, e := range events {
		line := fmt.Sprintf("\n• %s — %s", slackEscape(EventLabel(e)), Count(e.Rows))
		more := fmt.Sprintf("\n…and %d more", len(events)-i)
		if b.Len()+len(line)+len(more) > slackMaxTextChars-50 {
			b.WriteString(more)
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
// slackDrift is the drift in one block: its headline and the top three
// paths of each kind.
func slackDrift(d *audit.Drift) string {
	line := DriftHeadline(d)
	if line == "" {
		return ""
	}
	b := []string{"*" + slackEscape(strings.TrimSuffix(line, ".")) + "*"}
	for _, sec := range DriftSections(d, 3) {
		for _, it := range sec.Items {
			b = append(b, fmt.Sprintf("• %s: %s `%s`: %s", sec.Title, slackEscape(it.Event), slackEscape(it.Path), it.Detail))
		}
		if sec.More > 0 {
			b = append(b, fmt.Sprintf("• %s: …and %s more", sec.Title, Count(int64(sec.More))))
		}
	}
	return strings.Join(b, "\n")
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to n characters, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// SlackError is the digest of a run that could not finish.
func SlackError(source, reason string) slack.Msg {
	md := slack.NewTextBlockObject(slack.MarkdownType, cut("The audit did not finish, and nothing was written:\n```"+reason+"```", slackMaxTextChars), false, false)
	return slack.Msg{
		Text: cut("eventaudit error: "+source+": "+reason, slackMaxNotifyChars),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, cut(":x: eventaudit error: "+source, slackMaxHeaderChars), true, false)),
			slack.NewSectionBlock(md, nil, nil),
		}},
	}
}

// SlackJSON writes the digest as the JSON body of a webhook post: what
// --format slack prints, for a person or a pipeline to post itself.
func SlackJSON(w io.Writer, s *audit.Summary, o SlackOptions) error {
	msg := SlackMessage(s, o)
	return writeJSON(w, slack.WebhookMessage{Text: msg.Text, Blocks: &msg.Blocks})
}

func slackFreshness(s *audit.Summary) string {
	if age, ok := s.Freshness(); ok {
		return audit.FormatAge(age) + " before the run"
	}
	return "no rows at all"
}
