package audit

import "encoding/binary"

// Invalid events repeat themselves. A release that sends "usd" where the
// plan says "USD", or leaves out a required property, does so on every
// such event until it is fixed, and the nights after a bad deploy are the
// ones whose audits must not crawl. An object narrowed to one failing
// member is judged by that member's bytes alone, and one whose members are
// all valid by the object's own failures alone (validateMembers). So the
// library's verdict on one row is the verdict of every row that repeats
// those, under the same schema. verdictCache keeps them per worker. The
// library still judged each one, and wrote its messages, the first time.

// verdict is what the library made of one narrowed object: its
// failures' fields, each location relative to the object. The route's
// object path is prefixed on each use: one schema may hold the objects of
// two routes. A member's verdict keeps the value each failure quotes; the
// object's own verdict does not, since its failures quote the object.
type verdict []verdictViolation

type verdictViolation struct {
	instancePath, keyword, message, value string
}

func newVerdict(fs []Failure, vs []Violation) verdict {
	v := make(verdict, len(fs))
	for i, f := range fs {
		v[i] = verdictViolation{instancePath: f.InstancePath, keyword: f.Keyword, message: f.Message}
		if vs != nil {
			v[i].value = vs[i].Value
		}
	}
	return v
}

// violations are the rows of a kept verdict, under base and the route's
// object path.
func (v verdict) violations(base Violation, objectPath string) []Violation {
	out := make([]Violation, len(v))
	for i, f := range v {
		out[i] = base
		out[i].InstancePath = objectPath + f.instancePath
		out[i].Keyword, out[i].Message, out[i].Value = f.keyword, f.message, f.value
	}
	return out
}

// verdictCache is one worker's verdicts, by schema and then by what was
// judged: a member's key and value, or the object's own failures.
type verdictCache struct {
	bySchema map[Schema]map[string]verdict
	entries  int
	key      []byte
}

const (
	// maxVerdicts bounds a worker's verdicts. A member whose value is
	// fresh on every row (a price sent as a string) fills the table; it is
	// then emptied, so that verdicts still repeating are kept again.
	maxVerdicts = 1024
	// maxVerdictKey is the longest look-up key kept: long values rarely
	// repeat, and the table's memory is entries times this.
	maxVerdictKey = 256
)

// verdictKey is a look-up key: what was judged, its kind first, so that no
// member's key is an object's.
type verdictKey struct {
	kind byte
	name string // a member's key, or the object's own failures
	raw  []byte // a member's value
}

func memberKey(m RawMember) verdictKey { return verdictKey{'m', m.Key, m.Value} }

func ownKey(own string) verdictKey { return verdictKey{kind: 'o', name: own} }

// lookup writes k into vs.key, length-prefixing the name, and says whether
// it is short enough to keep.
func (vs *verdictCache) lookup(k verdictKey) bool {
	if len(k.name)+len(k.raw) > maxVerdictKey {
		return false
	}
	vs.key = append(vs.key[:0], k.kind)
	vs.key = binary.AppendUvarint(vs.key, uint64(len(k.name)))
	vs.key = append(append(vs.key, k.name...), k.raw...)
	return true
}

// get returns the verdict kept under s and k.
func (vs *verdictCache) get(s Schema, k verdictKey) (verdict, bool) {
	if vs == nil || !vs.lookup(k) {
		return nil, false
	}
	v, ok := vs.bySchema[s][string(vs.key)]
	return v, ok
}

// put keeps v under s and k.
func (vs *verdictCache) put(s Schema, k verdictKey, v verdict) {
	if vs == nil || !vs.lookup(k) {
		return
	}
	if vs.bySchema == nil || vs.entries >= maxVerdicts {
		vs.bySchema, vs.entries = map[Schema]map[string]verdict{}, 0
	}
	byKey := vs.bySchema[s]
	if byKey == nil {
		byKey = map[string]verdict{}
		vs.bySchema[s] = byKey
	}
	byKey[string(vs.key)] = v
	vs.entries++
}
