package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

func TestSplitWindowCoversTheWindowOnce(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		w     audit.Window
		n     int
		parts int
	}{
		{"a day in two", audit.Window{Start: day, End: day.Add(24 * time.Hour)}, 2, 2},
		{"an odd length in three", audit.Window{Start: day, End: day.Add(10*time.Second + 7*time.Nanosecond)}, 3, 3},
		{"shorter than a microsecond a part", audit.Window{Start: day, End: day.Add(time.Microsecond)}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := splitWindow(tc.w, tc.n)
			if len(parts) != tc.parts {
				t.Fatalf("%d parts, want %d: %v", len(parts), tc.parts, parts)
			}
			if !parts[0].Start.Equal(tc.w.Start) || !parts[len(parts)-1].End.Equal(tc.w.End) {
				t.Errorf("parts %v do not span %v", parts, tc.w)
			}
			for i, p := range parts {
				if !p.Start.Before(p.End) {
					t.Errorf("part %d is empty: %v", i, p)
				}
				if i > 0 && !p.Start.Equal(parts[i-1].End) {
					t.Errorf("part %d starts at %v, the one before ends at %v: a gap or an overlap", i, p.Start, parts[i-1].End)
				}
				if p.Start.Sub(tc.w.Start)%time.Microsecond != 0 {
					t.Errorf("part %d starts between microseconds (%v), which Postgres would round", i, p.Start)
				}
			}
		})
	}
}

// proofRow is one row of the pushdown scan: a row fetched (rule nil) or
// the count of one rule's proven rows.
type proofRow struct {
	id      string
	payload string
	rule    *int64
	name    string
	n       int64
}

type proofRows struct {
	rows []proofRow
	i    int
	err  error // after the rows
}

func (r *proofRows) Columns() ([]string, error) { return nil, nil }
func (r *proofRows) Next() bool                 { r.i++; return r.i <= len(r.rows) }
func (r *proofRows) Err() error                 { return r.err }
func (r *proofRows) Close() error               { return nil }
func (r *proofRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	if row.rule != nil {
		*dest[3].(**int64), *dest[4].(**string), *dest[5].(**int64) = row.rule, &row.name, &row.n
		return nil
	}
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	*dest[0].(**string), *dest[1].(**time.Time), *dest[2].(*[]byte) = &row.id, &at, []byte(row.payload)
	return nil
}

// partsConn answers the pushdown scan of each part, keyed by the part's
// start, and records the parts queried.
type partsConn struct {
	Conn
	mu      sync.Mutex
	byStart map[time.Time]*proofRows
	failing map[time.Time]error
	queried []time.Time
}

func (c *partsConn) Query(_ context.Context, _ string, args ...any) (Rows, error) {
	start := args[0].(time.Time)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queried = append(c.queried, start)
	if err := c.failing[start]; err != nil {
		return nil, err
	}
	return c.byStart[start], nil
}

// A proof run as one statement per part of the window fetches every row
// not proven and counts every proven one, across the parts; a failure of
// any part fails the scan, and so does the pipeline's refusal of a batch.
func TestProvePartsReadsEveryPartOnce(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	parts := splitWindow(audit.Window{Start: day, End: day.Add(24 * time.Hour)}, 2)
	rule := func(i int64) *int64 { return &i }
	newConn := func() *partsConn {
		return &partsConn{byStart: map[time.Time]*proofRows{
			parts[0].Start: {rows: []proofRow{{id: "a1", payload: "{}"}, {rule: rule(0), name: "Signed Up", n: 40}, {id: "a2", payload: "[]"}}},
			parts[1].Start: {rows: []proofRow{{rule: rule(0), name: "Signed Up", n: 2}, {id: "b1", payload: "{}"}, {rule: rule(3), n: 7}}},
		}}
	}
	source := func(c Conn) *Source {
		return &Source{WH: &Warehouse{Dialect: &Dialect{}, Conn: c}, Table: RawTable{Table: Ident{"events"}}}
	}

	t.Run("every row and count", func(t *testing.T) {
		c := newConn()
		var fetched []string
		// Batches of two: the first part fills one, the second leaves one
		// row to send when it ends.
		counts, err := source(c).proveParts(context.Background(), "proof", parts, 2, func(rows []audit.Row) error {
			for _, r := range rows {
				fetched = append(fetched, r.MessageID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(fetched)
		if want := []string{"a1", "a2", "b1"}; !slices.Equal(fetched, want) {
			t.Errorf("fetched %v, want %v", fetched, want)
		}
		total := map[string]int64{}
		for _, c := range counts {
			total[fmt.Sprint(c.Rule, c.Name)] += c.Rows
		}
		if want := map[string]int64{"0Signed Up": 42, "3": 7}; fmt.Sprint(total) != fmt.Sprint(want) {
			t.Errorf("proven %v, want %v", total, want)
		}
		slices.SortFunc(c.queried, time.Time.Compare)
		if len(c.queried) != 2 || !c.queried[0].Equal(parts[0].Start) || !c.queried[1].Equal(parts[1].Start) {
			t.Errorf("queried the parts starting %v, want each of %v once", c.queried, parts)
		}
	})

	t.Run("a part fails", func(t *testing.T) {
		c := newConn()
		c.failing = map[time.Time]error{parts[1].Start: errors.New("canceling statement due to statement timeout")}
		counts, err := source(c).proveParts(context.Background(), "proof", parts, 1, func([]audit.Row) error { return nil })
		if err == nil || counts != nil {
			t.Fatalf("counts %v, error %v: want no counts and the part's error", counts, err)
		}
	})

	t.Run("a part's rows fail midway", func(t *testing.T) {
		c := newConn()
		c.byStart[parts[0].Start].err = errors.New("connection reset by peer")
		counts, err := source(c).proveParts(context.Background(), "proof", parts, 1, func([]audit.Row) error { return nil })
		if err == nil || counts != nil {
			t.Fatalf("counts %v, error %v: want no counts and the lost connection", counts, err)
		}
	})

	t.Run("the pipeline stops", func(t *testing.T) {
		stop := errors.New("the run was cancelled")
		counts, err := source(newConn()).proveParts(context.Background(), "proof", parts, 1, func([]audit.Row) error { return stop })
		if !errors.Is(err, stop) || counts != nil {
			t.Fatalf("counts %v, error %v: want the pipeline's error", counts, err)
		}
	})
}
