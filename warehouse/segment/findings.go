package segment

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// Findings implements audit.FindingSource.
func (s *Source) Findings() []audit.Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.findings)
	slices.SortFunc(out, func(a, b audit.Violation) int {
		return cmp.Or(strings.Compare(a.Keyword+a.EventName+a.InstancePath, b.Keyword+b.EventName+b.InstancePath),
			strings.Compare(a.Message, b.Message))
	})
	return out
}

// find records a finding once per run. A sharded run records none: every
// shard would find the same column, and a finding has no message id to
// hash to one shard, so a shard's re-run could not replace its own.
func (s *Source) find(key string, v audit.Violation) {
	if s.Shard.Sharded() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reported == nil {
		s.reported = map[string]bool{}
	}
	if s.reported[key] {
		return
	}
	s.reported[key] = true
	s.findings = append(s.findings, v)
}

// checkColumns reports, once per run, each column whose type cannot hold
// its property: the "typed from the first value" trap.
func (s *Source) checkColumns(t *segmentTable, m audit.Match, leaves []segmentLeaf) {
	byName := map[string]int{}
	for i, c := range t.cols {
		byName[strings.ToLower(c.Name)] = i
	}
	for _, l := range leaves {
		i, ok := byName[l.col]
		if !ok || len(l.shape.Types) == 0 {
			continue
		}
		fits := false
		for _, typ := range l.shape.Types {
			fits = fits || typ != "null" && holds(t.kinds[i], typ)
		}
		if fits {
			continue
		}
		c := t.cols[i]
		s.find("type/"+t.name+"/"+l.col+"/"+m.SchemaID, audit.Violation{EventType: m.Type, EventName: m.Name,
			SchemaID: m.SchemaID, InstancePath: "/" + t.member + "/" + strings.Join(l.props, "/"), Keyword: audit.KeywordColumnType,
			Value: jsonString(c.Type),
			Message: fmt.Sprintf("column %s.%s is %s, which cannot hold %s: Segment types a column from the first value it loads; "+
				"fix the column's type, or the event that sent that value", t.name, c.Name, c.Type, strings.Join(l.shape.Types, " or "))})
	}
}
