package segment

import (
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/google/go-cmp/cmp"
)

// groupCount is one count row of a statement: its group's key and count.
type groupCount struct {
	key string
	c   audit.ProvenCount
}

// A statement that counts the window's rows per group reports, per group,
// the rows it proved: its count less the rows it returned unproven, over
// every slice. A group whose rows all came back unproven (a page name no
// rule proves among them), or an empty window's count of nothing, reports
// nothing, as a run without pushdown reports no such event; counts that
// cannot be (fewer rows counted than returned, rows returned in a group
// never counted, rows left proven where no rule proves) fail the run.
func TestWindowCountsReportTheRowsProven(t *testing.T) {
	a, b, null := "Signed Up", "Signed up", (*string)(nil)
	tests := []struct {
		name    string
		fetched []string
		counts  []groupCount
		want    []audit.ProvenCount
		wantErr string
	}{
		{
			name:    "groups",
			fetched: []string{groupKey(&a), groupKey(&a), groupKey(null), groupKey(&b)},
			counts: []groupCount{
				{groupKey(&a), audit.ProvenCount{Rule: 3, Name: a, Rows: 10}},
				{groupKey(null), audit.ProvenCount{Rule: 3, Rows: 1}},
				{groupKey(&b), audit.ProvenCount{Rule: 3, Name: b, Rows: 4}},
				{groupKey(&a), audit.ProvenCount{Rule: 3, Name: a, Rows: 5}}, // a second slice
			},
			want: []audit.ProvenCount{{Rule: 3, Name: a, Rows: 13}, {Rule: 3, Name: b, Rows: 3}},
		},
		{
			name:   "an empty window",
			counts: []groupCount{{groupKey(), audit.ProvenCount{Rule: 1}}},
		},
		{
			name:    "a name no rule proves, every row fetched",
			fetched: []string{groupKey(&b), groupKey(&b)},
			counts:  []groupCount{{groupKey(&b), audit.ProvenCount{Rule: -1, Name: b, Rows: 2}}},
		},
		{
			name:    "rows left proven under no rule",
			fetched: []string{groupKey(&b)},
			counts:  []groupCount{{groupKey(&b), audit.ProvenCount{Rule: -1, Name: b, Rows: 2}}},
			wantErr: "no rule proves",
		},
		{
			name:    "fewer counted than returned",
			fetched: []string{groupKey(), groupKey()},
			counts:  []groupCount{{groupKey(), audit.ProvenCount{Rule: 1, Rows: 1}}},
			wantErr: "counted fewer rows",
		},
		{
			name:    "returned in a group never counted",
			fetched: []string{groupKey(&a)},
			counts:  []groupCount{{groupKey(&b), audit.ProvenCount{Rule: 1, Rows: 1}}},
			wantErr: "did not count",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w windowCounts
			for _, k := range tt.fetched {
				w.fetch(k)
			}
			for _, c := range tt.counts {
				w.count(c.key, c.c)
			}
			got, _, err := w.proven()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("proven counts (-want +got):\n%s", diff)
			}
		})
	}
}

// NULL is a group of its own, apart from the empty string, however the
// driver hands it over, and a value's type is part of its key.
func TestGroupKeysKeepNullApart(t *testing.T) {
	empty, null := "", (*string)(nil)
	if groupKey(null) != groupKey(any(nil)) {
		t.Errorf("a NULL *string and a NULL value keyed apart: %q, %q", groupKey(null), groupKey(any(nil)))
	}
	for _, apart := range [][2]string{
		{groupKey(&empty), groupKey(null)},
		{groupKey(""), groupKey(any(nil))},
		{groupKey(int64(1)), groupKey("1")},
		{groupKey(null, &empty), groupKey(&empty, null)},
	} {
		if apart[0] == apart[1] {
			t.Errorf("two groups share key %q", apart[0])
		}
	}
}
