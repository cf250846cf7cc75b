package main

import "testing"

// The soft memory limit that keeps a run's peak under 256 MB is set only
// where the user's GOMEMLIMIT does not say otherwise, "off" included.
func TestSoftMemoryLimitYieldsToGOMEMLIMIT(t *testing.T) {
	for _, tc := range []struct {
		env   string
		limit int64
		set   bool
	}{
		{"", 150 << 20, true},
		{"1GiB", 0, false},
		{"off", 0, false},
	} {
		limit, set := softMemoryLimit(func(k string) string {
			if k == "GOMEMLIMIT" {
				return tc.env
			}
			return ""
		})
		if limit != tc.limit || set != tc.set {
			t.Errorf("GOMEMLIMIT=%q: limit %d (set %v), want %d (set %v)", tc.env, limit, set, tc.limit, tc.set)
		}
	}
}
