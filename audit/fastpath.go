package audit

import "bytes"

// envelope is what the fast path reads of a message without decoding it.
type envelope struct {
	typ         string
	event, name []byte
	schemaID    []byte
	// object is the raw validated object ("{}" when absent or null).
	object []byte
}

var emptyObject = []byte("{}")

// scanEnvelope reads the routing fields and the validated object's bytes.
// ok=false means "take the slow path": malformed JSON, escapes or a
// non-string where a routing string should be, duplicate routing keys,
// anything unusual.
func scanEnvelope(b []byte, target ValidateTarget) (env envelope, ok bool) {
	i := SkipSpace(b, 0)
	var seen [5]bool
	str := func(vs int) ([]byte, int, bool) {
		end, esc, ok := ScanString(b, vs)
		if !ok {
			return nil, 0, false
		}
		v, ok := StringValue(b, vs, end, esc)
		return v, end, ok
	}
	props, traits := [2]int{-1, -1}, [2]int{-1, -1}
	end, ok := EachMember(b, i, func(ks, ke int, kEsc bool, vs int) (int, bool) {
		if kEsc {
			return 0, false // a key like "typ\\u0065" is "type" to encoding/json
		}
		field := -1
		switch string(b[ks+1 : ke-1]) {
		case "type":
			field = 0
		case "event":
			field = 1
		case "name":
			field = 2
		case "properties":
			field = 3
		case "traits":
			field = 4
		}
		if field < 0 {
			return SkipValue(b, vs)
		}
		if seen[field] {
			return 0, false // encoding/json keeps the last duplicate; do not guess
		}
		seen[field] = true
		switch field {
		case 0, 1, 2:
			v, e, ok := str(vs)
			if !ok {
				return 0, false
			}
			switch field {
			case 0:
				env.typ = callType(v)
			case 1:
				env.event = v
			case 2:
				env.name = v
			}
			return e, true
		}
		e, ok := SkipValue(b, vs)
		if field == 3 {
			props = [2]int{vs, e}
		} else {
			traits = [2]int{vs, e}
		}
		return e, ok
	})
	if !ok || SkipSpace(b, end) != len(b) {
		return env, false
	}
	if target == ValidateMessage {
		env.object = b[i:end]
	} else {
		r := props
		if key, _ := objectKey(env.typ); key == "traits" {
			r = traits
		}
		if r[0] < 0 || string(b[r[0]:r[1]]) == "null" {
			env.object = emptyObject
		} else {
			env.object = b[r[0]:r[1]]
		}
	}
	// schema_id is read from the validated object's own members. The walk
	// above has already checked the object's grammar, so an object whose
	// bytes hold neither the key nor an escape (which could spell it) has
	// no schema_id, and most objects are passed over at memchr speed.
	if len(env.object) > 0 && env.object[0] == '{' && mayHoldSchemaID(env.object) {
		seenID := false
		_, ok := EachMember(env.object, 0, func(ks, ke int, kEsc bool, vs int) (int, bool) {
			if kEsc {
				return 0, false
			}
			if string(env.object[ks+1:ke-1]) != "schema_id" {
				return SkipValue(env.object, vs)
			}
			if seenID {
				return 0, false // the last duplicate wins in encoding/json
			}
			seenID = true
			if env.object[vs] != '"' {
				return SkipValue(env.object, vs) // not a string: no schema_id, as in Match
			}
			end, esc, ok := ScanString(env.object, vs)
			if !ok {
				return 0, false
			}
			env.schemaID, ok = StringValue(env.object, vs, end, esc)
			return end, ok
		})
		if !ok {
			return env, false
		}
	}
	return env, true
}

// checkFast handles a row without decoding it when it can: an unplanned
// event, or an event its schema proves valid from the raw bytes. It returns
// done=false to hand the row to the slow path, which decodes and validates
// it and writes any violation. When it read the envelope and matched a
// schema but could not prove the object valid, it also returns the match
// and the object's bytes: the slow path then decodes the object alone, not
// the whole message, whose context is most of its bytes.
func (a *Auditor) checkFast(row *Row, agg *aggregate) (done bool, m Match, object []byte) {
	if a.DisableFastPath || row.Payload == nil {
		return false, m, nil
	}
	env, ok := scanEnvelope(row.Payload, a.Matcher.Target)
	if !ok || !rawStorable(row.MessageID, MaxIDBytes) {
		return false, m, nil
	}
	r := agg.routes.route(a.Matcher, &env)
	if r == nil {
		return false, m, nil
	}
	m = r.m
	switch {
	case m.Problem != nil:
		return false, m, nil
	case m.Unplanned:
		if a.UnplannedIsViolation {
			return false, m, nil
		}
	default:
		if fs, ok := m.Schema.(FastSchema); !ok || !fs.ValidJSON(env.object) {
			return false, m, env.object
		}
	}
	agg.addTo(agg.routes.event(r, agg), m.Unplanned, nil)
	if agg.prof != nil && a.profiles(m) {
		agg.prof.observeRawTo(r.profile(agg.prof), env.object)
	}
	return true, m, nil
}

// callType is a message's type as a string: one of the call types without
// an allocation, as each row has one.
func callType(v []byte) string {
	for _, t := range pushdownTypes {
		if string(v) == t {
			return t
		}
	}
	return string(v)
}

var schemaIDKey = []byte(`"schema_id"`)

// mayHoldSchemaID reports whether a well-formed object could have a
// member named schema_id: its bytes hold the key as written, or a
// backslash, with which a key could spell it otherwise.
func mayHoldSchemaID(object []byte) bool {
	return bytes.IndexByte(object, '\\') >= 0 || bytes.Contains(object, schemaIDKey)
}
