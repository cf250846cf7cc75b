package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Auditor runs one audit: scan, match, validate, write, summarise.
type Auditor struct {
	Source  Source
	Sink    Sink // nil for a dry run: validate and report, write nothing
	Matcher *Matcher
	// Workers is the number of validator goroutines; 0 means GOMAXPROCS.
	Workers int
	// UnplannedIsViolation makes each unplanned message a violation with
	// keyword "unplanned" and counts it as invalid.
	UnplannedIsViolation bool
	// Thresholds fail the run (--fail-on); Warnings only mark it warned
	// (--warn-on), which still exits 0.
	Thresholds Thresholds
	Warnings   Thresholds
	Logger     *slog.Logger
	Now        func() time.Time
	// Progress, when set, is called from one goroutine with the running
	// count of scanned rows after each batch.
	Progress func(rowsScanned int64)
	// DisableFastPath decodes and validates every message with the JSON
	// Schema library, for differential tests and benchmarks.
	DisableFastPath bool
	// MaxPayloadBytes, when positive, bounds the payload parsed per row: a
	// larger one is a violation, not parsed, so one huge row cannot take
	// the run's memory.
	MaxPayloadBytes int
	// Redact, when set, scrubs secrets from each violation's message and
	// value before it is written or reported.
	Redact func(string) string
	// Values says what a violation keeps of the offending value; the zero
	// value keeps it.
	Values ValuePolicy
	// Suppressions are the ignore: entries in force (compiled, unexpired).
	Suppressions []Suppression
	// NewViolationsFrom, when set and a threshold names new_violations,
	// tells which failures earlier runs of the source already had.
	NewViolationsFrom FingerprintSource
	// Findings are violations that belong to no message and are known
	// before the scan (a schema file that does not compile); they are
	// written and reported with the source's own findings.
	Findings []Violation
	// Profile, when set, keeps a property profile of every validated
	// object (Summary.Profiles) and reports drift from the plan. Rows a
	// pushdown proves valid are not seen, so pushdown is off while it is on.
	Profile *Profiling
	// Pushdown, when set and the source is a ProvingSource, lets the
	// warehouse prove rows valid where they live: only the others are
	// fetched and judged here. The results are the same either way.
	Pushdown *PushdownPlan
}

// batchesAhead is how many batches per worker may wait on each side of
// the workers. One was too few where the reader and the workers share the
// machine's cores (an embedded DuckDB, whose threads hand over rows in
// bursts of about four batches): a burst stalled the reader, and DuckDB's
// threads behind it, while a core idled. Two or three helped little; four
// took a 1M-row DuckDB audit on 2 cores from 2.12 s to 1.97-2.04 s
// (medians of alternating runs), for 13-18 MB more peak RSS
// (docs/performance.md, "Deeper queues between the stages").
const batchesAhead = 4

// batchResult is what one worker made of one batch.
type batchResult struct {
	violations []Violation
	agg        aggregate
}

// Run audits run.Window of the source. run carries the identity fields
// (RunID, Source, Window, SchemasDigest, Version); Run fills the rest. Nothing
// is written unless the whole run succeeds.
func (a *Auditor) Run(ctx context.Context, run Run) (summary *Summary, err error) {
	now := a.Now
	if now == nil {
		now = time.Now
	}
	logger := a.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	workers := a.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	run.StartedAt = now().UTC()

	// Read before the transaction opens: the run replaces the violations
	// of its own window, and a re-run must not call them new.
	var known map[Fingerprint]bool
	if a.countsNewViolations() {
		if a.NewViolationsFrom == nil {
			// Never green by mistake: a limit that cannot be counted fails.
			return nil, Configf(errors.New("new_violations needs the results of earlier runs, and this run has none to read"))
		}
		if known, err = a.NewViolationsFrom.Fingerprints(ctx, run); err != nil {
			return nil, fmt.Errorf("read the failures of earlier runs, for new_violations: %w", err)
		}
	}

	// Counting duplicates groups every message id of the window. An engine
	// in this process (DuckDB) needs memory for it that, beside or after
	// the scan, would come on top of the scan's, so it counts first. A
	// server counts beside the scan, on its own cores.
	vs, _ := a.Source.(VitalSource)
	var vitals Vitals
	measure := func(ctx context.Context) error {
		start := time.Now()
		v, err := vs.Vitals(ctx, run.Window)
		if err != nil {
			return fmt.Errorf("measure the freshness and duplicates of %s: %w", run.Source, err)
		}
		vitals = v
		logger.Debug("vitals measured", "beside_scan", vs.VitalsBesideScan(), "duplicates", v.Duplicates, "took", time.Since(start))
		return nil
	}
	if vs != nil && !vs.VitalsBesideScan() {
		if err := measure(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}

	var tx SinkTx
	if a.Sink != nil {
		tx, err = a.Sink.Begin(ctx, run)
		if err != nil {
			return nil, fmt.Errorf("open results transaction: %w", err)
		}
		defer func() {
			if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && err != nil {
				logger.Warn("rollback failed", "err", rbErr)
			}
		}()
	}

	scanStart := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	// The queue into the workers bounds memory at about
	// (batchesAhead+1)×workers batches in flight, each with its payloads'
	// buffer (1 MB for 1,000 rows); results hold violations only.
	batches := make(chan []Row, batchesAhead*workers)
	results := make(chan batchResult, batchesAhead*workers)

	if vs != nil && vs.VitalsBesideScan() {
		g.Go(func() error { return measure(gctx) })
	}

	var proven []ProvenCount
	plan := a.pushdownPlan()
	g.Go(func() error {
		defer close(batches)
		send := func(rows []Row) error {
			own := make([]Row, len(rows)) // the source may reuse its slice
			copy(own, rows)
			run.RowsFetched += int64(len(rows))
			for i := range rows {
				run.BytesFetched += int64(len(rows[i].MessageID) + len(rows[i].Payload))
			}
			select {
			case batches <- own:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		var err error
		if plan != nil {
			proven, err = a.Source.(ProvingSource).ScanUnproven(gctx, run.Window, *plan, send)
		} else {
			err = a.Source.Scan(gctx, run.Window, send)
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", run.Source, err)
		}
		return nil
	})

	var active atomic.Int32
	active.Store(int32(workers))
	for range workers {
		g.Go(func() error {
			defer func() {
				if active.Add(-1) == 0 {
					close(results)
				}
			}()
			recycler, _ := a.Source.(RecyclingSource)
			// Each worker profiles into its own profile, merged once when
			// it ends: merging one per batch would serialise the workers
			// on the collector.
			var w worker
			if a.Profile != nil {
				w.prof = newProfile(a.Profile)
				defer func() {
					select {
					case results <- batchResult{agg: aggregate{events: map[eventKey]*eventAgg{}, prof: w.prof}}:
					case <-gctx.Done():
					}
				}()
			}
			for rows := range batches {
				res := a.checkBatch(run.RunID, rows, &w)
				// Violations hold copies of what they keep of a payload
				// (payloadViolation, ValuePolicy.at), never the bytes themselves.
				if recycler != nil {
					recycler.Recycle(rows)
				}
				select {
				case results <- res:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}

	total := newAggregate()
	if a.Profile != nil {
		total.prof = newProfile(a.Profile)
	}
	g.Go(func() error {
		for res := range results {
			total.merge(&res.agg)
			if tx != nil && len(res.violations) > 0 {
				if err := tx.WriteViolations(gctx, res.violations); err != nil {
					return fmt.Errorf("write violations: %w", err)
				}
			}
			if a.Progress != nil {
				a.Progress(total.rows)
			}
		}
		return nil
	})

	if err := g.Wait(); err != nil {
		// Prefer the caller's cancellation over the errors it caused.
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	logger.Debug("window scanned and judged", "rows_fetched", run.RowsFetched, "workers", workers, "took", time.Since(scanStart))

	if vs != nil {
		run.LatestReceivedAt, run.DuplicateRows = vitals.Latest.UTC(), vitals.Duplicates
	}

	// Proven rows are valid, or unplanned, rows that never left the
	// warehouse.
	for _, c := range proven {
		if c.Rule < 0 || c.Rule >= len(plan.Rules) || c.Rows < 0 {
			return nil, fmt.Errorf("scan %s: the warehouse counted %d rows under rule %d, which the plan of %d rules does not have",
				run.Source, c.Rows, c.Rule, len(plan.Rules))
		}
		r := plan.Rules[c.Rule]
		e := total.event(eventKey{Type: r.Type, Name: r.name(c.Name), SchemaID: r.SchemaID, Unplanned: r.Unplanned})
		e.rows += c.Rows
		total.rows += c.Rows
		if r.Unplanned {
			total.unplanned += c.Rows
		}
		run.RowsProven += c.Rows
	}

	findings := slices.Clone(a.Findings)
	if fs, ok := a.Source.(FindingSource); ok {
		findings = append(findings, fs.Findings()...)
	}
	for i := range findings {
		findings[i].RunID = run.RunID
		if findings[i].ReceivedAt.IsZero() {
			// Inside the window, so that a re-run replaces it.
			findings[i].ReceivedAt = run.Window.Start
		}
		cleanViolation(&findings[i], a.Redact, a.Values)
	}
	suppress(a.Suppressions, findings)
	for i := range findings {
		total.addFinding(findings[i])
	}
	if tx != nil && len(findings) > 0 {
		if err := tx.WriteViolations(ctx, findings); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("write findings: %w", err)
		}
	}

	run.FinishedAt = now().UTC()
	run.RowsScanned = total.rows
	run.RowsInvalid = total.invalid
	run.RowsUnplanned = total.unplanned
	run.Violations = total.violations
	run.ViolationsSuppressed = total.suppressed
	summary = newSummary(run, total)
	if total.prof != nil {
		shapes := a.shapes()
		summary.Profiles = total.prof.profiles(a.Values, shapes)
		summary.Drift = driftOf(summary.Profiles, shapes, a.Profile.Limits)
	}
	if known != nil {
		n := summary.newViolations(known)
		summary.NewViolations = &n
	}
	summary.Breaches = a.Thresholds.Check(summary)
	for _, w := range a.Warnings.Check(summary) {
		// A metric over its fail limit is reported once, as a failure.
		if !slices.ContainsFunc(summary.Breaches, func(b Breach) bool { return b.Metric == w.Metric }) {
			summary.Warnings = append(summary.Warnings, w)
		}
	}
	switch {
	case len(summary.Breaches) > 0:
		summary.Run.Status = StatusFailed
	case len(summary.Warnings) > 0:
		summary.Run.Status = StatusWarned
	default:
		summary.Run.Status = StatusPassed
	}

	if tx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		commitStart := time.Now()
		if summary.Profiles != nil {
			if err := tx.WriteProperties(ctx, summary.PropertyStats()); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("write the property profile: %w", err)
			}
		}
		if err := tx.Commit(ctx, summary.Run, summary.EventStats()); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("commit results: %w", err)
		}
		logger.Debug("results committed", "took", time.Since(commitStart))
	}
	logger.Info("audit finished", "rows", run.RowsScanned, "invalid", run.RowsInvalid,
		"unplanned", run.RowsUnplanned, "violations", run.Violations, "status", summary.Run.Status)
	return summary, nil
}

// pushdownPlan is the plan the run's source proves rows with, or nil when
// it proves none.
func (a *Auditor) pushdownPlan() *PushdownPlan {
	if a.Pushdown == nil || !a.Pushdown.Provable() || a.Profile != nil {
		return nil
	}
	if _, ok := a.Source.(ProvingSource); !ok {
		return nil
	}
	plan := a.Pushdown.ForRun(a.MaxPayloadBytes, a.UnplannedIsViolation)
	if !plan.Provable() {
		return nil
	}
	return &plan
}

// worker is one validator goroutine's own state, which no other touches.
type worker struct {
	prof     *profile // nil when the run keeps none
	routes   routes
	verdicts verdictCache
}

// checkBatch validates rows, profiling them into the worker's profile; it
// touches no shared state.
func (a *Auditor) checkBatch(runID string, rows []Row, w *worker) batchResult {
	res := batchResult{agg: newAggregate()}
	w.routes.batch++
	res.agg.prof, res.agg.routes, res.agg.verdicts = w.prof, &w.routes, &w.verdicts
	for i := range rows {
		vs := a.checkRow(runID, &rows[i], &res.agg)
		res.violations = append(res.violations, vs...)
	}
	res.agg.prof, res.agg.routes, res.agg.verdicts = nil, nil, nil // the worker's; its profile is sent once at its end
	return res
}

func (a *Auditor) checkRow(runID string, row *Row, agg *aggregate) []Violation {
	vs := a.judgeRow(runID, row, agg)
	for i := range vs {
		cleanViolation(&vs[i], a.Redact, a.Values)
	}
	return vs
}

func (a *Auditor) judgeRow(runID string, row *Row, agg *aggregate) []Violation {
	if a.MaxPayloadBytes > 0 && len(row.Payload) > a.MaxPayloadBytes {
		// Not parsed: decoding a huge payload into values costs many times
		// its size in memory.
		return a.payloadViolation(runID, row, agg,
			fmt.Sprintf("payload is %d bytes, over the %d-byte limit; it was not parsed", len(row.Payload), a.MaxPayloadBytes))
	}
	done, m, object := a.checkFast(row, agg)
	if done {
		return nil
	}
	if object == nil && m.Problem != nil && m.Problem.Keyword == KeywordSchemaID {
		// A schema_id that names no loaded schema: the route holds all the
		// violation says, and the value it quotes is that schema_id, as the
		// envelope read it. Not decoding the message matters the night a
		// release sends a wrong schema_id on every event.
		base, vs := matchedBase(runID, row, m)
		vs = append(vs, problemViolation(base, m.Problem, a.Values.at(m.SchemaID, "")))
		a.count(agg, base, false, vs)
		return vs
	}
	if object != nil {
		base := Violation{RunID: runID, MessageID: row.MessageID, ReceivedAt: row.ReceivedAt,
			EventType: m.Type, EventName: m.Name, SchemaID: m.SchemaID}
		vs, ok := a.validateMembers(base, m, object, agg.verdicts)
		if !ok {
			// The scan proved the object's bytes one JSON value.
			if obj, _, err := decodeJSON(object); err == nil {
				vs, ok = a.validate(base, m, obj), true
			}
		}
		if ok {
			a.count(agg, base, false, vs)
			a.profileRaw(agg, m, object)
			return vs
		}
	}
	msg, err := DecodePayload(row.Payload)
	if err != nil {
		return a.payloadViolation(runID, row, agg, err.Error())
	}
	m = a.Matcher.Match(msg)
	base, vs := matchedBase(runID, row, m)
	switch {
	case m.Problem != nil:
		vs = append(vs, problemViolation(base, m.Problem, a.Values.at(msg, m.Problem.InstancePath)))
	case m.Unplanned:
		if a.UnplannedIsViolation {
			v := base
			v.Keyword = KeywordUnplanned
			v.Message = fmt.Sprintf("no schema matches %s event %q", m.Type, m.Name)
			vs = append(vs, v)
		}
	default:
		vs = append(vs, a.validate(base, m, m.Object)...)
	}
	a.count(agg, base, m.Unplanned, vs)
	if agg.prof != nil && a.profiles(m) {
		obj := m.Object
		if obj == nil { // unplanned: the matcher left it out
			obj, _ = Lookup(msg, m.ObjectPath)
		}
		// Keyed like the event's stats: by its storable identity.
		agg.prof.observeValue(eventKey{base.EventType, base.EventName, base.SchemaID, m.Unplanned}, m.ObjectPath, obj)
	}
	return vs
}

// matchedBase is the violation every row of a match starts from. The
// identity goes into the stats and every violation row: it must be
// storable, and a row whose identity was not is flagged (the returned
// violations).
func matchedBase(runID string, row *Row, m Match) (Violation, []Violation) {
	base := Violation{RunID: runID, MessageID: row.MessageID, ReceivedAt: row.ReceivedAt,
		EventType: m.Type, EventName: m.Name, SchemaID: m.SchemaID}
	vs := cleanIdentity(&base)
	if v, ok := invalidUTF8(base, row.Payload); ok {
		vs = append(vs, v)
	}
	return base, vs
}

// problemViolation is the violation of a message that matching refused.
func problemViolation(base Violation, p *Failure, value string) Violation {
	v := base
	v.InstancePath, v.Keyword, v.Message, v.Value = p.InstancePath, p.Keyword, p.Message, value
	return v
}

// shapes returns each schema's Shape by id, nil when the catalog does not
// have it or cannot describe it.
func (a *Auditor) shapes() func(string) *Shape {
	cache := map[string]*Shape{}
	return func(id string) *Shape {
		if s, ok := cache[id]; ok {
			return s
		}
		var shape *Shape
		if s, ok := a.Matcher.Catalog.ByID(id); ok {
			if sh, ok := s.(Shaper); ok {
				shape = sh.Shape()
			}
		}
		cache[id] = shape
		return shape
	}
}

// profiles says whether a matched message has an object to profile: alias
// and other calls carry none a plan describes.
func (a *Auditor) profiles(m Match) bool {
	return m.Problem == nil && (m.ObjectPath != "" || a.Matcher.Target == ValidateMessage)
}

// profileRaw profiles a matched object from its raw bytes, which the
// envelope scan proved one JSON value.
func (a *Auditor) profileRaw(agg *aggregate, m Match, object []byte) {
	if agg.prof != nil && a.profiles(m) {
		agg.prof.observeRaw(eventKey{m.Type, m.Name, m.SchemaID, m.Unplanned}, m.ObjectPath, object)
	}
}

// countsNewViolations says whether a threshold needs the failures of
// earlier runs.
func (a *Auditor) countsNewViolations() bool {
	_, fail := a.Thresholds[MetricNewViolations]
	_, warn := a.Warnings[MetricNewViolations]
	return fail || warn
}

// count marks the violations an ignore: entry accepts, then counts the row.
func (a *Auditor) count(agg *aggregate, base Violation, unplanned bool, vs []Violation) {
	suppress(a.Suppressions, vs)
	agg.add(base, unplanned, vs)
}

// validate asks the library, the judge, about the matched object: one
// violation per failed leaf check.
func (a *Auditor) validate(base Violation, m Match, obj any) []Violation {
	return a.violations(base, m, obj, m.Schema.Validate(obj))
}

// validateMembers judges an invalid object by its failing members alone,
// where its schema proves the rest valid (MemberSchema): the library then
// decodes and judges a property where it would the whole object. The
// violations are validate's, to the byte; ok is false where the schema
// cannot narrow the object. Where one member fails, or only the object's
// own keywords, the verdict is kept, and a row that repeats it is not
// judged again (verdictCache).
func (a *Auditor) validateMembers(base Violation, m Match, object []byte, verdicts *verdictCache) ([]Violation, bool) {
	ms, ok := m.Schema.(MemberSchema)
	if !ok {
		return nil, false
	}
	raw, own, ok := ms.FailingMembers(object)
	switch {
	case !ok:
		return nil, false
	case own != "":
		return a.validateOwn(base, m, object, own, verdicts)
	case len(raw) == 1:
		if v, ok := verdicts.get(m.Schema, memberKey(raw[0])); ok {
			return v.violations(base, m.ObjectPath), true
		}
	}
	members := make(map[string]any, len(raw))
	for _, r := range raw {
		v, _, err := decodeJSON(r.Value)
		if err != nil {
			return nil, false
		}
		members[r.Key] = v
	}
	fs, ok := ms.ValidateMembers(members)
	if !ok {
		return nil, false
	}
	// Every failure is inside a member, whose value members holds as the
	// whole object would.
	vs := a.violations(base, m, members, fs)
	if len(raw) == 1 {
		verdicts.put(m.Schema, memberKey(raw[0]), newVerdict(fs, vs))
	}
	return vs, true
}

// validateOwn judges an object whose members are all valid and whose own
// keywords fail, as own names them. The library's failures are the same
// for every such object with the same own; their values, the object
// itself, are each row's.
func (a *Auditor) validateOwn(base Violation, m Match, object []byte, own string, verdicts *verdictCache) ([]Violation, bool) {
	key := ownKey(own)
	if v, ok := verdicts.get(m.Schema, key); ok {
		// A kept verdict's failures are all at the object, which each
		// quotes: written from its text where it can be, else decoded.
		value, ok := a.Values.text(object)
		if !ok {
			obj, _, err := decodeJSON(object)
			if err != nil {
				return nil, false
			}
			value = a.Values.at(obj, "")
		}
		vs := v.violations(base, m.ObjectPath)
		for i := range vs {
			vs[i].Value = value
		}
		return vs, true
	}
	obj, _, err := decodeJSON(object)
	if err != nil {
		return nil, false
	}
	fs := m.Schema.Validate(obj)
	vs := a.violations(base, m, obj, fs)
	// Kept only as FailingMembers describes it: failures of the object's
	// own, at the object.
	if len(fs) > 0 && !slices.ContainsFunc(fs, func(f Failure) bool { return f.InstancePath != "" }) {
		verdicts.put(m.Schema, key, newVerdict(fs, nil))
	}
	return vs, true
}

// violations are the rows of a schema's failures on obj.
func (a *Auditor) violations(base Violation, m Match, obj any, fs []Failure) []Violation {
	var vs []Violation
	for _, f := range fs {
		v := base
		v.InstancePath = m.ObjectPath + f.InstancePath
		v.Keyword, v.Message = f.Keyword, f.Message
		v.Value = a.Values.at(obj, f.InstancePath)
		vs = append(vs, v)
	}
	return vs
}

// payloadViolation records a row that cannot be judged against a schema:
// its payload is missing, unreadable or too large. Only the start of the
// payload is kept as the value; truncate marks the cut exactly as it would
// on the whole payload.
func (a *Auditor) payloadViolation(runID string, row *Row, agg *aggregate, message string) []Violation {
	base := Violation{RunID: runID, MessageID: row.MessageID, ReceivedAt: row.ReceivedAt}
	vs := cleanIdentity(&base)
	v := base
	v.Keyword, v.Message = KeywordPayload, message
	v.Value = a.Values.raw(row.Payload)
	vs = append(vs, v)
	a.count(agg, base, false, vs)
	return vs
}

// Lookup resolves a JSON pointer (RFC 6901) inside a decoded JSON value.
func Lookup(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = UnescapeToken(tok)
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// truncate cuts s to MaxValueBytes on a UTF-8 boundary, marking the cut.
func truncate(s string) string {
	if len(s) <= MaxValueBytes {
		return s
	}
	cut := MaxValueBytes - len("…")
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
