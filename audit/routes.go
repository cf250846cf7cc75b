package audit

// routes is one worker's memory of the envelopes the fast path has routed.
// A match is a pure function of an envelope's four strings (Matcher.route),
// and a table carries few distinct envelopes, so a row that repeats one
// costs a single lookup on its raw bytes: no copy of its event name, no
// route, and no hash of its identity for the aggregate and the profile.
type routes struct {
	byEnvelope map[string]*routed
	key        []byte
	// batch numbers the worker's batches: an entry's agg belongs to the
	// aggregate of batch aggBatch only.
	batch int
	// guess is the type guessed for a message whose object comes before
	// its type.
	guess typeGuess
}

// routed is what the fast path made of one envelope.
type routed struct {
	m        Match
	key      eventKey
	agg      *eventAgg
	aggBatch int
	prof     *eventProfile // in the worker's profile, which lives as long
}

// maxRoutes bounds the memory: a table that sends a fresh event name per
// row fills it, and its later envelopes are routed one row at a time.
const maxRoutes = 4096

// route returns the match of an envelope whose strings are all storable as
// they are, or nil when one is not (the slow path cleans and flags it).
func (rs *routes) route(mt *Matcher, env *envelope) *routed {
	rs.key = append(rs.key[:0], env.typ...)
	// A raw NUL cannot be in a string the scan accepted (it is a control
	// character), so it separates the fields unambiguously.
	for _, f := range [...][]byte{env.event, env.name, env.schemaID} {
		rs.key = append(append(rs.key, 0), f...)
	}
	if r, ok := rs.byEnvelope[string(rs.key)]; ok {
		return r
	}
	event, name, schemaID := string(env.event), string(env.name), string(env.schemaID)
	if !rawStorable(env.typ, MaxIDBytes) || !rawStorable(event, MaxNameBytes) ||
		!rawStorable(name, MaxNameBytes) || !rawStorable(schemaID, MaxNameBytes) {
		return nil
	}
	m := mt.route(env.typ, event, name, schemaID)
	r := &routed{m: m, key: eventKey{m.Type, m.Name, m.SchemaID, m.Unplanned}, aggBatch: -1}
	if rs.byEnvelope == nil {
		rs.byEnvelope = map[string]*routed{}
	}
	if len(rs.byEnvelope) < maxRoutes {
		rs.byEnvelope[string(rs.key)] = r
	}
	return r
}

// event is the routed event's counts in agg, the aggregate of the worker's
// current batch.
func (rs *routes) event(r *routed, agg *aggregate) *eventAgg {
	if r.aggBatch != rs.batch {
		r.agg, r.aggBatch = agg.event(r.key), rs.batch
	}
	return r.agg
}

// profile is the routed event's profile in p, the worker's.
func (r *routed) profile(p *profile) *eventProfile {
	if r.prof == nil {
		r.prof = p.event(r.key, r.m.ObjectPath)
	}
	return r.prof
}
