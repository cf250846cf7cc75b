package main

import (
	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse"
)

// segmentNotCheckable lists, for the log, the rules of the plan's schemas
// that Segment's layout cannot honour.
func segmentNotCheckable(reg *schemas.Registry) []string {
	var out []string
	for _, name := range reg.EventNames() {
		s, ok := reg.ByName(name)
		if !ok {
			continue
		}
		if sh, ok := s.(audit.Shaper); ok {
			out = append(out, warehouse.SegmentNotCheckable(s.ID(), sh.Shape())...)
		}
	}
	return out
}
