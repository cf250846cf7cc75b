package segment

import (
	"fmt"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
)

// NotCheckable lists the rules of a schema that Segment's layout
// cannot honour, so a run can say so instead of reporting false
// violations: a maxLength above the 512 characters Segment keeps, and a
// property that allows null, whose null the layout cannot tell from absent.
func NotCheckable(schemaID string, shape *audit.Shape) []string {
	var out []string
	var walk func(sh *audit.Shape, path string)
	walk = func(sh *audit.Shape, path string) {
		names := make([]string, 0, len(sh.Properties))
		for n := range sh.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			ps, p := sh.Properties[n], path+"/"+n
			if ps.MaxLength > MaxVarchar {
				out = append(out, fmt.Sprintf("%s %s: maxLength %d (Segment keeps %d characters)", schemaID, p, ps.MaxLength, MaxVarchar))
			}
			if len(ps.Types) > 0 && ps.Allows("null") {
				out = append(out, fmt.Sprintf("%s %s: null and absent look the same (a NULL column)", schemaID, p))
			}
			if len(ps.Properties) > 0 {
				walk(ps, p)
			}
		}
	}
	walk(shape, "")
	return out
}
