package reports_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/reports"
)

// The OpenMetrics file of a failing and a warned run, as node_exporter's
// textfile collector reads it.
func TestMetricsFileGolden(t *testing.T) {
	for _, name := range []string{"failing", "warned"} {
		s := *summaries()[name]
		// A run always finished; the shared fixtures leave the times zero.
		s.Run.StartedAt = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
		s.Run.FinishedAt = s.Run.StartedAt.Add(83 * time.Second)
		var b bytes.Buffer
		if err := reports.WriteMetrics(&b, &s); err != nil {
			t.Fatal(err)
		}
		golden(t, name+".prom", b.Bytes())
	}
}
