package audit

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Suppression is one entry of eventaudit.yml's ignore: list: a known,
// accepted problem. A violation it matches is still written, marked
// suppressed, but counts toward no threshold, report total or digest.
// Each set field must match; Event, Schema and Path are globs in which
// * matches any run of characters, "/" included.
type Suppression struct {
	Event   string // the event name; for identify and group, the type
	Schema  string // the schema_id
	Keyword string
	Path    string // the instance path, e.g. /properties/products/*/price
	Reason  string
	// Until is the first day it no longer applies; zero is never.
	Until time.Time
	// Entry names it for messages: "ignore entry 2 (line 14)".
	Entry string

	event, schema, keyword, path *regexp.Regexp
}

// Compile checks the entry and prepares its globs.
func (s *Suppression) Compile() error {
	if strings.TrimSpace(s.Reason) == "" {
		return fmt.Errorf("%s: give a reason, so that the next person knows why the problem is accepted", s.Entry)
	}
	if s.Event == "" && s.Schema == "" && s.Keyword == "" && s.Path == "" {
		return fmt.Errorf("%s: name at least one of event, schema, keyword or path; an entry matching everything would hide every violation", s.Entry)
	}
	s.event, s.schema, s.keyword, s.path = glob(s.Event), glob(s.Schema), glob(s.Keyword), glob(s.Path)
	return nil
}

// glob compiles a pattern where * is any run of characters; "" is nil,
// which matches anything.
func glob(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
}

// Expired reports whether the entry no longer applies at t.
func (s *Suppression) Expired(t time.Time) bool { return !s.Until.IsZero() && !t.Before(s.Until) }

func (s *Suppression) matches(v *Violation) bool {
	event := v.EventName
	if event == "" {
		event = v.EventType
	}
	for _, m := range []struct {
		re *regexp.Regexp
		s  string
	}{{s.event, event}, {s.schema, v.SchemaID}, {s.keyword, v.Keyword}, {s.path, v.InstancePath}} {
		if m.re != nil && !m.re.MatchString(m.s) {
			return false
		}
	}
	return true
}

// suppress marks the violations an entry matches.
func suppress(list []Suppression, vs []Violation) {
	if len(list) == 0 {
		return
	}
	for i := range vs {
		for j := range list {
			if list[j].matches(&vs[i]) {
				vs[i].Suppressed = true
				break
			}
		}
	}
}

// Fingerprint is what makes a failure "the same" across runs: the event,
// the check, and the instance path with array indexes as *, so that the
// 7th product failing where the 1st failed yesterday is not new.
type Fingerprint struct {
	Type, Name, Keyword, Path string
}

// FingerprintOf is the fingerprint of a failed check at path.
func FingerprintOf(typ, name, keyword, instancePath string) Fingerprint {
	parts := strings.Split(instancePath, "/")
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && p != "" {
			parts[i] = "*"
		}
	}
	return Fingerprint{typ, name, keyword, strings.Join(parts, "/")}
}

// FingerprintSource remembers the failures of a source's earlier runs:
// the sink, which holds them. It is asked before the run's transaction
// opens, since the run replaces the violations of its own window.
type FingerprintSource interface {
	Fingerprints(ctx context.Context, run Run) (map[Fingerprint]bool, error)
}
