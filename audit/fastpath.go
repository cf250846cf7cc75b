package audit

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
	var seen [6]bool
	str := func(vs int) ([]byte, int, bool) {
		end, esc, ok := ScanString(b, vs)
		if !ok {
			return nil, 0, false
		}
		v, ok := StringValue(b, vs, end, esc)
		return v, end, ok
	}
	// Each candidate object's bounds and where its schema_id's value starts
	// (-1: none), read in the one walk: the message's own members, and
	// those of properties and traits.
	type object struct{ start, end, id int }
	props, traits, message := object{-1, -1, -1}, object{-1, -1, -1}, object{-1, -1, -1}
	end, ok := EachMember(b, i, func(ks, ke int, kEsc bool, vs int) (int, bool) {
		if kEsc {
			return 0, false // a key like "typ\u0065" is "type" to encoding/json
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
		case "schema_id":
			field = 5
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
		case 5:
			message.id = vs
			return SkipValue(b, vs)
		}
		e, id, plain, ok := skipFinding(b, vs, "schema_id")
		if !ok || !plain {
			return 0, false // an escaped key or a second schema_id: the slow path decides
		}
		if field == 3 {
			props = object{vs, e, id}
		} else {
			traits = object{vs, e, id}
		}
		return e, true
	})
	if !ok || SkipSpace(b, end) != len(b) {
		return env, false
	}
	// schema_id is read from the validated object's own members.
	var o object
	if target == ValidateMessage {
		env.object, o = b[i:end], message
	} else {
		o = props
		if key, _ := objectKey(env.typ); key == "traits" {
			o = traits
		}
		if o.start < 0 || string(b[o.start:o.end]) == "null" {
			env.object, o = emptyObject, object{-1, -1, -1}
		} else {
			env.object = b[o.start:o.end]
		}
	}
	// A schema_id that is not a string is none, as in Match.
	if o.id >= 0 && b[o.id] == '"' {
		end, esc, ok := ScanString(b, o.id)
		if !ok {
			return env, false
		}
		if env.schemaID, ok = StringValue(b, o.id, end, esc); !ok {
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
