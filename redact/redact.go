// Package redact keeps secrets out of everything eventaudit prints or
// stores. It removes the secrets it was given in every form they take once
// a library has parsed and printed them (trimmed, as a normalised URL, its
// path alone, percent-decoded), and whatever has the shape of a Slack
// webhook, a Slack token or a URL password, given or not.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "xxxxx"

// minSecret is the shortest string treated as a secret: shorter ones
// (a password "pw" in a test) would mask ordinary words.
const minSecret = 4

// shapes are secrets recognised by their form. Slack webhook paths are
// /services/T…/B…/TOKEN (also /workflows/ and /triggers/); tokens start
// xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-, xoxe- or xapp-.
//
// Each shape names the literals it cannot match without (any one of
// them): scrubbing runs on every violation of a run, and a substring test
// costs a fraction of a regexp pass.
var shapes = []struct {
	re    *regexp.Regexp
	with  string
	needs []string
}{
	{regexp.MustCompile(`(/(?:services|workflows|triggers)/)T[A-Za-z0-9]*(?:/[A-Za-z0-9_-]+)+`), "${1}" + Mask,
		[]string{"/services/", "/workflows/", "/triggers/"}},
	{regexp.MustCompile(`\bxox[abposre]-[A-Za-z0-9-]+`), "xox-" + Mask, []string{"xox"}},
	{regexp.MustCompile(`\bxapp-[A-Za-z0-9-]+`), "xapp-" + Mask, []string{"xapp-"}},
	// scheme://user:password@host
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s"']*):[^@\s"'/]+@`), "${1}:" + Mask + "@", []string{"@"}},
}

// Redactor scrubs the secrets added to it, and every shape above. It is
// safe for concurrent use: log lines are written from several goroutines
// while a command is still learning its secrets.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret's part never masks before the whole
}

// Add records secrets in every form they may be printed in.
func (r *Redactor) Add(secrets ...string) {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, Forms(s)...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if !slices.Contains(r.secrets, f) {
			r.secrets = append(r.secrets, f)
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Forms lists the ways a secret may appear once printed: as given, trimmed,
// percent-decoded, and for a URL its normalised form (Go prints an
// upper-case scheme in lower case), its path and its query.
func Forms(secret string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= minSecret && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(secret)
	t := strings.TrimSpace(secret)
	add(t)
	if dec, err := url.PathUnescape(t); err == nil {
		add(dec)
	}
	if u, err := url.Parse(t); err == nil && u.Host != "" {
		add(u.String())
		add(u.Redacted())
		if len(u.Path) > 1 {
			add(u.Path)
			add(u.EscapedPath())
		}
		add(u.RawQuery)
		if p, ok := u.User.Password(); ok {
			add(p)
		}
	}
	return out
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, Mask)
		}
		r.mu.RUnlock()
	}
	return Shapes(s)
}

// Shapes masks what looks like a secret, known or not.
func Shapes(s string) string {
	for _, sh := range shapes {
		if slices.ContainsFunc(sh.needs, func(lit string) bool { return strings.Contains(s, lit) }) {
			s = sh.re.ReplaceAllString(s, sh.with)
		}
	}
	return s
}
