package reports

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
)

// A client that sends a new event name with every message cannot grow the
// label set: past MaxMetricEvents, the smallest events are summed into
// "(other)", and no row is lost from the sums.
func TestMetricEventsAreBounded(t *testing.T) {
	var events []audit.EventSummary
	var rows, invalid int64
	for i := range 1000 {
		e := audit.EventSummary{Type: "track", Name: fmt.Sprintf("Event %04d", i), SchemaID: "s", Rows: int64(i + 1), InvalidRows: int64(i % 3)}
		events = append(events, e)
		rows += e.Rows
		invalid += e.InvalidRows
	}
	// Two schema versions of one event are one series.
	events = append(events, audit.EventSummary{Type: "track", Name: "Event 0999", SchemaID: "s2", Rows: 5})
	rows += 5
	got := metricEvents(events)
	if len(got) != MaxMetricEvents+1 {
		t.Fatalf("%d series, want %d and (other)", len(got), MaxMetricEvents)
	}
	if got[0].Name != "Event 0999" || got[0].Rows != 1005 {
		t.Errorf("largest series %+v, want Event 0999 with both versions' 1005 rows", got[0])
	}
	if got[MaxMetricEvents].Name != "(other)" {
		t.Errorf("last series %q, want (other)", got[MaxMetricEvents].Name)
	}
	var gotRows, gotInvalid int64
	for _, e := range got {
		gotRows += e.Rows
		gotInvalid += e.InvalidRows
	}
	if gotRows != rows || gotInvalid != invalid {
		t.Errorf("sums %d rows, %d invalid; want %d and %d", gotRows, gotInvalid, rows, invalid)
	}
	var b strings.Builder
	if err := WriteMetrics(&b, &audit.Summary{Run: audit.Run{Source: "s"}, Events: events}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "eventaudit_event_rows{"); n != MaxMetricEvents+1 {
		t.Errorf("the file has %d event_rows series, want %d", n, MaxMetricEvents+1)
	}
}
