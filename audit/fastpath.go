package audit

// envelope is what the fast path reads of a message without decoding it.
type envelope struct {
	typ         string
	event, name []byte
	schemaID    []byte
	// object is the raw validated object ("{}" when absent or null).
	object []byte
	// proven, when set, is the route guessed from the fields before the
	// object, whose schema proved object valid in the envelope's walk: the
	// proof stands where the message's route has that schema. sameRoute
	// says the message's route is that one (the fields after the object
	// changed none of its four strings).
	proven    *routed
	sameRoute bool
	// unproven, when set, is the route whose schema failed to prove object
	// in the walk: asking that schema again would fail again.
	unproven *routed
}

var emptyObject = []byte("{}")

// scanEnvelope reads the routing fields and the validated object's bytes.
// ok=false means "take the slow path": malformed JSON, escapes or a
// non-string where a routing string should be, duplicate routing keys,
// anything unusual.
//
// Where prove names a schema for the object about to be read, from the
// routing fields read before it, the walk over the object is that schema's
// proof. A message with its keys sorted names its type after its
// properties and traits, so prove gets the type "track" where an event
// came first, and "" where nothing says. The caller keeps the proof only
// if the message's route turns out to have that schema: it is a proof of
// those bytes against that schema, whatever the route.
func scanEnvelope(b []byte, target ValidateTarget, prove func(field int, typ string, event, name []byte) *routed) (env envelope, ok bool) {
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
	provenAt, provenSeen, unprovenAt := -1, [6]bool{}, -1
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
		e, id, proven := 0, -1, false
		if r, p := proverFor(prove, target, field, seen, &env); p != nil && vs < len(b) && b[vs] == '{' {
			if e, id, proven = p.ValidAt(b, vs); proven {
				env.proven, provenAt, provenSeen = r, vs, seen
			} else {
				env.unproven, unprovenAt = r, vs
			}
		}
		if !proven {
			var plain, ok bool
			if e, id, plain, ok = skipFinding(b, vs, "schema_id"); !ok || !plain {
				return 0, false // an escaped key or a second schema_id: the slow path decides
			}
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
	if o.start != provenAt {
		env.proven = nil
	}
	if o.start != unprovenAt {
		env.unproven = nil
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
	env.sameRoute = env.proven != nil && env.typ == env.proven.m.Type && len(env.schemaID) == 0 &&
		seen[1] == provenSeen[1] && seen[2] == provenSeen[2]
	return env, true
}

// proverFor asks prove for the route of the object of field (3:
// properties, 4: traits), given the routing fields read so far, and
// returns it with its schema where that can prove the object in place.
func proverFor(prove func(field int, typ string, event, name []byte) *routed, target ValidateTarget, field int, seen [6]bool, env *envelope) (*routed, ObjectProver) {
	if prove == nil || target == ValidateMessage {
		return nil, nil
	}
	typ := env.typ
	if !seen[0] {
		typ = ""
		if seen[1] {
			typ = "track"
		}
	}
	r := prove(field, typ, env.event, env.name)
	if r == nil {
		return nil, nil
	}
	p, _ := r.m.Schema.(ObjectProver)
	return r, p
}

// typeGuess is a worker's guess of a message's type where its object comes
// before its type and no event says: the type of the last message of the
// kind (page or screen for properties, identify or group for traits),
// which a source mostly repeats.
type typeGuess [2]string

func (g *typeGuess) of(field int) string {
	if t := g[field-3]; t != "" {
		return t
	}
	return [...]string{"page", "identify"}[field-3]
}

// learn keeps the type of a routed message for the next guess.
func (g *typeGuess) learn(typ string) {
	switch typ {
	case "page", "screen":
		g[0] = typ
	case "identify", "group":
		g[1] = typ
	}
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
	rs := agg.routes
	prove := func(field int, typ string, event, name []byte) *routed {
		if typ == "" {
			typ = rs.guess.of(field)
		}
		if key, _ := objectKey(typ); key == "" || (key == "properties") != (field == 3) {
			return nil
		}
		r := rs.route(a.Matcher, &envelope{typ: typ, event: event, name: name})
		if r == nil || r.m.Problem != nil || r.m.Unplanned {
			return nil
		}
		return r
	}
	env, ok := scanEnvelope(row.Payload, a.Matcher.Target, prove)
	if !ok || !rawStorable(row.MessageID, MaxIDBytes) {
		return false, m, nil
	}
	rs.guess.learn(env.typ)
	r := env.proven
	if !env.sameRoute {
		r = rs.route(a.Matcher, &env)
	}
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
		if env.proven != nil && env.proven.m.Schema == m.Schema {
			break // proved in the envelope's walk
		}
		if env.unproven != nil && env.unproven.m.Schema == m.Schema {
			return false, m, env.object // failed in the envelope's walk
		}
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
