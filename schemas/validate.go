package schemas

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Validate implements audit.Schema. It reports only the leaves of the
// library's error tree: the parents just say "doesn't validate with …".
func (s *Schema) Validate(instance any) []audit.Failure {
	err := s.compiled.Validate(instance)
	out, ok := s.failures(err, "", "")
	if !ok {
		// Only an infinite $ref loop gets here; report it rather than
		// calling the event valid.
		return []audit.Failure{{Keyword: "$ref", Message: err.Error()}}
	}
	sortFailures(out)
	return out
}

// failures lists the leaves of the library's error, their locations
// prefixed as they would read from further up: a member judged by its
// property's subschema alone has its locations below the member, where
// the whole object's judgement has them below the object
// (ValidateMembers). ok is false for an error that is not a validation
// error: an infinite $ref loop.
func (s *Schema) failures(err error, keywordPrefix, instancePrefix string) (out []audit.Failure, ok bool) {
	if err == nil {
		return nil, true
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			kw := lastKeyword(keywordPrefix + e.KeywordLocation)
			out = append(out, audit.Failure{
				InstancePath: instancePrefix + e.InstanceLocation,
				Keyword:      kw,
				Message:      s.message(kw, e.Message),
			})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out, true
}

// sortFailures orders failures stably: the library walks properties in
// map order, and a stable order keeps the example a report quotes the
// same from run to run.
func sortFailures(fs []audit.Failure) {
	slices.SortStableFunc(fs, func(a, b audit.Failure) int {
		return cmp.Or(cmp.Compare(a.InstancePath, b.InstancePath), cmp.Compare(a.Keyword, b.Keyword),
			cmp.Compare(a.Message, b.Message))
	})
}

// lastKeyword is the keyword that failed: the last token of the keyword
// location, skipping the index of an allOf/anyOf branch and the like.
func lastKeyword(loc string) string {
	toks := strings.Split(loc, "/")
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		if t == "" || (t[0] >= '0' && t[0] <= '9') {
			continue
		}
		return audit.UnescapeToken(t)
	}
	return "schema"
}

// message is the library's message as the plan's author reads it: a
// pattern as written (not its RE2 translation), property names in order.
func (s *Schema) message(keyword, msg string) string {
	if keyword == "pattern" {
		if translated, ok := strings.CutPrefix(msg, "does not match pattern "); ok {
			if orig, ok := s.patterns[translated]; ok {
				return "does not match pattern " + orig
			}
		}
	}
	return stableMessage(keyword, msg)
}

// stableMessage sorts the property names the library lists in Go map order
// ("additionalProperties 'b', 'a' not allowed"), so the same event gets the
// same message on every run and with any number of workers.
func stableMessage(keyword, msg string) string {
	if keyword != "additionalProperties" {
		return msg
	}
	names, ok := strings.CutPrefix(msg, "additionalProperties ")
	if names, ok2 := strings.CutSuffix(names, " not allowed"); ok && ok2 {
		parts := strings.Split(names, ", ")
		slices.Sort(parts)
		return "additionalProperties " + strings.Join(parts, ", ") + " not allowed"
	}
	return msg
}
