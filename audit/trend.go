package audit

import "math"

// RunStats is a completed run and its per-event statistics.
type RunStats struct {
	Run   Run
	Stats []EventStats
}

// Previous is the last completed run of the same source and shard before
// this one: the baseline of a trend.
type Previous = RunStats

// Like reports whether r belongs to the same history as run: the same
// source, shard and label, and a window of the same length, so that a
// trend compares like with like.
func Like(r, run Run) bool {
	return r.Source == run.Source && r.Shard == run.Shard && r.Label == run.Label &&
		r.Window.End.Sub(r.Window.Start) == run.Window.End.Sub(run.Window.Start)
}

// Trend is the change since the previous run.
type Trend struct {
	Previous Run
	// Deltas are this run minus the previous one.
	RowsScanned, RowsInvalid, RowsUnplanned int64
	// InvalidRate is in rate units (0.01 = one percentage point).
	InvalidRate float64
	// RowsInvalidRel is the relative change of invalid rows, NaN when the
	// previous run had none.
	RowsInvalidRel float64
}

// WithPrevious attaches the previous run: the summary's trend and, per
// event, its invalid rows then and whether its failures are new.
func (s *Summary) WithPrevious(p *Previous) {
	if p == nil {
		return
	}
	s.Previous = &p.Run
	before := map[eventKey]int64{}
	for _, st := range p.Stats {
		before[eventKey{st.EventType, st.EventName, st.SchemaID, st.Unplanned}] += st.InvalidRows
	}
	for i := range s.Events {
		e := &s.Events[i]
		prev, seen := before[eventKey{e.Type, e.Name, e.SchemaID, e.Unplanned}]
		e.PreviousInvalidRows = prev
		e.NewFailure = e.InvalidRows > 0 && (!seen || prev == 0)
	}
}

// Trend is nil without a previous run.
func (s *Summary) Trend() *Trend {
	if s.Previous == nil {
		return nil
	}
	p := s.Previous
	t := &Trend{
		Previous:      *p,
		RowsScanned:   s.Run.RowsScanned - p.RowsScanned,
		RowsInvalid:   s.Run.RowsInvalid - p.RowsInvalid,
		RowsUnplanned: s.Run.RowsUnplanned - p.RowsUnplanned,
		InvalidRate:   s.InvalidRate() - rate(p.RowsInvalid, p.RowsScanned),
	}
	t.RowsInvalidRel = math.NaN()
	if p.RowsInvalid > 0 {
		t.RowsInvalidRel = float64(t.RowsInvalid) / float64(p.RowsInvalid)
	}
	return t
}
