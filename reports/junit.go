package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// FormatJUnit is the audit as JUnit XML, the test report every CI system
// reads (GitHub Actions through a reporter action, GitLab, Jenkins,
// Buildkite, CircleCI).
const FormatJUnit = "junit"

// junitChecks bounds the checks listed in one event's failure.
const junitChecks = 10

// The JUnit XML elements, in the order Jenkins' schema (junit-4.xsd)
// requires.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
		SystemOut  string          `xml:"system-out,omitempty"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string         `xml:"name,attr"`
		Classname string         `xml:"classname,attr"`
		Skipped   *junitSkipped  `xml:"skipped"`
		Failures  []junitFailure `xml:"failure"`
	}
	junitSkipped struct {
		Message string `xml:",cdata"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		// CDATA keeps the lines readable in a CI system's raw view.
		Body string `xml:",cdata"`
	}
)

// JUnit renders the run as one test suite: a test case per event × schema,
// failed when any of its rows is invalid, and a "thresholds" case, failed
// when the run breaks a --fail-on threshold, so that a CI system's test
// view shows what failed the job. An unplanned event that is not counted
// as a violation is a skipped case.
func JUnit(w io.Writer, s *audit.Summary) error {
	r := s.Run
	suite := junitSuite{
		Name:      "eventaudit " + r.Source,
		Time:      seconds(r.FinishedAt.Sub(r.StartedAt)),
		Timestamp: r.StartedAt.UTC().Format(time.RFC3339),
		Properties: []junitProperty{
			{"run_id", r.RunID}, {"source", r.Source}, {"window", Window(r.Window)}, {"status", r.Status},
			{"rows_scanned", strconv.FormatInt(r.RowsScanned, 10)}, {"rows_invalid", strconv.FormatInt(r.RowsInvalid, 10)},
		},
	}
	checks := map[[3]string][]audit.CheckSummary{}
	for _, c := range s.Checks {
		k := [3]string{c.Type, c.Name, c.SchemaID}
		checks[k] = append(checks[k], c)
	}
	thresholds := junitCase{Name: "thresholds", Classname: "eventaudit." + r.Source}
	for _, b := range s.Breaches {
		thresholds.Failures = append(thresholds.Failures, junitFailure{Message: b.String(), Type: b.Metric, Body: b.String()})
	}
	suite.Cases = append(suite.Cases, thresholds)
	for _, e := range s.Events {
		c := junitCase{Name: EventLabel(e) + " against " + SchemaLabel(e), Classname: "eventaudit." + r.Source}
		switch {
		case e.InvalidRows > 0:
			c.Failures = []junitFailure{{
				Message: fmt.Sprintf("%s of %s invalid (%s), %s", Count(e.InvalidRows), plural(e.Rows, "row", "rows"),
					Percent(e.InvalidRate()), plural(e.Violations, "violation", "violations")),
				Type: "invalid_rows",
				Body: junitChecksText(checks[[3]string{e.Type, e.Name, e.SchemaID}]),
			}}
		case e.Unplanned:
			c.Skipped = &junitSkipped{Message: fmt.Sprintf("no schema in the plan matches this event (%s)", plural(e.Rows, "row", "rows"))}
		}
		suite.Cases = append(suite.Cases, c)
	}
	var out []string
	for _, b := range s.Warnings {
		out = append(out, "warning: "+b.String())
	}
	out = append(out, s.NotCheckable...)
	// Drift fails no test: it is what a reader of the run should know.
	if line := DriftHeadline(s.Drift); line != "" {
		out = append(out, line)
		for _, sec := range DriftSections(s.Drift, maxDriftItems) {
			for _, it := range sec.Items {
				out = append(out, fmt.Sprintf("  %s: %s %s: %s", sec.Title, it.Event, it.Path, it.Detail))
			}
			if sec.More > 0 {
				out = append(out, fmt.Sprintf("  %s: …and %s more", sec.Title, Count(int64(sec.More))))
			}
		}
	}
	suite.SystemOut = strings.Join(out, "\n")
	for _, c := range suite.Cases {
		suite.Tests++
		if len(c.Failures) > 0 {
			suite.Failures++
		}
		if c.Skipped != nil {
			suite.Skipped++
		}
	}
	doc := junitSuites{Name: "eventaudit", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time,
		Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitChecksText lists an event's most frequent failed checks, each with
// its example, as a failure's text.
func junitChecksText(checks []audit.CheckSummary) string {
	var b strings.Builder
	for i, c := range checks {
		if i == junitChecks {
			fmt.Fprintf(&b, "… and %d more checks\n", len(checks)-i)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", CheckLabel(c.Check), plural(c.Violations, "violation", "violations"))
		fmt.Fprintf(&b, "  e.g. message %s: %s", c.Example.MessageID, c.Example.Message)
		if c.Example.Value != "" {
			fmt.Fprintf(&b, " (value %s)", c.Example.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func seconds(d time.Duration) string { return strconv.FormatFloat(max(d, 0).Seconds(), 'f', 3, 64) }
