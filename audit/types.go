// Package audit holds eventaudit's domain: the rows a warehouse yields, the
// matching of a Segment message to its schema, the validation pipeline and the
// run summary every report is rendered from. It imports no sibling package;
// warehouses and schema registries plug in through the interfaces defined here.
package audit

import (
	"context"
	"time"
)

// Row is one raw Segment message as a warehouse stores it.
type Row struct {
	MessageID  string
	ReceivedAt time.Time
	// Payload is the whole Segment message as JSON. Nil means the column was
	// NULL, which is reported as a violation rather than skipped.
	Payload []byte
}

// Window is the half-open interval [Start, End) of received_at a run audits.
type Window struct {
	Start time.Time
	End   time.Time
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// Source yields the rows of a window in batches. The batch slice is only valid
// for the duration of the yield call; a Source may reuse it.
type Source interface {
	Scan(ctx context.Context, w Window, yield func([]Row) error) error
}

// RecyclingSource is a Source that reuses the memory behind a batch's
// payloads once the pipeline is done with the batch: it calls Recycle with
// the rows of each batch it has judged, after which nothing of the run
// refers to those payload bytes. A source that copies payloads into one
// buffer per batch saves allocating (and collecting) one per batch.
type RecyclingSource interface {
	Source
	Recycle(rows []Row)
}

// Sink persists one run. Begin opens the run's transaction; nothing becomes
// visible to readers until Commit returns.
type Sink interface {
	Begin(ctx context.Context, run Run) (SinkTx, error)
}

// SinkTx receives a run's violations while the scan is still going, so that
// memory stays bounded, and writes the run row and its statistics at the end.
// Rollback after Commit is a no-op, so callers can defer it.
type SinkTx interface {
	WriteViolations(ctx context.Context, vs []Violation) error
	// WriteProperties writes the run's property profile
	// (eventaudit_property_stats), once, before Commit.
	WriteProperties(ctx context.Context, ps []PropertyStats) error
	Commit(ctx context.Context, run Run, stats []EventStats) error
	Rollback(ctx context.Context) error
}

// Violation is one failed check on one message: one row of
// eventaudit_violations.
type Violation struct {
	RunID      string
	MessageID  string
	ReceivedAt time.Time
	EventType  string
	EventName  string
	SchemaID   string
	// InstancePath is a JSON pointer into the whole message, e.g.
	// "/properties/products/0/price".
	InstancePath string
	Keyword      string
	Message      string
	// Value is the offending value as JSON, truncated to MaxValueBytes.
	Value string
	// Suppressed marks a violation an ignore: entry accepts: written, but
	// counted toward no threshold, total or digest.
	Suppressed bool
}

// Keywords eventaudit itself reports, beside the JSON Schema keywords.
const (
	KeywordPayload   = "payload"   // NULL, malformed JSON or not an object
	KeywordSchemaID  = "schema_id" // schema_id names no loaded schema
	KeywordUnplanned = "unplanned" // only when unplanned events count as violations
	// KeywordSchemaFile marks a schema file that does not compile, in a run
	// told to skip such files; it belongs to no message.
	KeywordSchemaFile = "schema_file"
)

// MaxValueBytes bounds the offending value stored per violation, so a huge
// array cannot bloat the violations table.
const MaxValueBytes = 256

// EventStats is one row of eventaudit_event_stats: one event × schema in a run.
type EventStats struct {
	RunID       string
	EventType   string
	EventName   string
	SchemaID    string
	Rows        int64
	InvalidRows int64
	Unplanned   bool
}

// Run is one row of eventaudit_runs.
type Run struct {
	RunID  string
	Source string
	Window Window
	// Shard is the part of the window this run audited; "" is all of it.
	Shard         Shard
	StartedAt     time.Time
	FinishedAt    time.Time
	Status        string
	RowsScanned   int64
	RowsInvalid   int64
	RowsUnplanned int64
	Violations    int64
	// ViolationsSuppressed counts the violations ignore: entries
	// accepted; Violations does not include them.
	ViolationsSuppressed int64
	SchemasDigest        string
	Version              string
	// Label keeps runs apart in the history (--label adhoc): a run's trend
	// and its incremental watermark come only from runs of its own label.
	Label string
	// LatestReceivedAt is the newest received_at of the source, in the
	// window or not; zero when the source is empty or did not say.
	LatestReceivedAt time.Time
	// DuplicateRows counts the window's rows whose message_id another row
	// of the window already has.
	DuplicateRows int64
	// RowsProven counts the rows the warehouse's SQL proved valid
	// (pushdown), which never left it; RowsFetched and BytesFetched are
	// the rows, and their message id and payload bytes, that did.
	RowsProven   int64
	RowsFetched  int64
	BytesFetched int64
}

// Run statuses. A run that fails writes nothing, so only finished runs have a row.
const (
	StatusPassed = "passed" // within thresholds
	StatusWarned = "warned" // over a --warn-on threshold only: exit 0
	StatusFailed = "failed" // over a --fail-on threshold
)

// Vitals are what a source's rows alone do not tell: how fresh the source
// is, and whether its loader wrote messages twice.
type Vitals struct {
	// Latest is the newest received_at of the source, in or out of the
	// window, whatever the shard; zero when it holds no rows.
	Latest time.Time
	// Duplicates counts the window's rows whose message_id another row of
	// the window already has.
	Duplicates int64
}

// VitalSource is a Source that measures its Vitals, in SQL where it lives
// in a warehouse.
type VitalSource interface {
	Vitals(ctx context.Context, w Window) (Vitals, error)
	// VitalsBesideScan says Vitals may run while the window is scanned:
	// the engine's memory is not the process's, and it has cores of its
	// own to count on.
	VitalsBesideScan() bool
}
