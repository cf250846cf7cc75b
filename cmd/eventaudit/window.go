package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// parseTime reads an RFC 3339 instant or a duration back from now: "24h",
// "90m", "7d".
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-20T00:00:00Z), a date (2026-11-20) nor a duration back from now (24h, 7d)", s)
}

func parseWindow(since, until string, now time.Time) (audit.Window, error) {
	var w audit.Window
	var err error
	if w.Start, err = parseTime(since, now); err != nil {
		return w, usageError{fmt.Errorf("--since %w", err)}
	}
	if until == "" || until == "now" {
		w.End = now.UTC()
	} else if w.End, err = parseTime(until, now); err != nil {
		return w, usageError{fmt.Errorf("--until %w", err)}
	}
	if !w.Start.Before(w.End) {
		return w, usageError{fmt.Errorf("the window is empty: --since %s is not before --until %s",
			w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))}
	}
	return w, nil
}
