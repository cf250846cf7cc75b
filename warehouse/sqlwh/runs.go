package sqlwh

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// RecentRuns reads the newest completed runs, newest first; source "" is
// every source. No result tables yet means no runs.
func (s *Sink) RecentRuns(ctx context.Context, source string, limit int) ([]audit.Run, error) {
	if exists, err := s.HasResults(ctx); err != nil || !exists {
		return nil, err
	}
	return s.Runs(ctx, source, limit)
}

// Runs is RecentRuns for a caller that knows the result tables exist.
func (s *Sink) Runs(ctx context.Context, source string, limit int) ([]audit.Run, error) {
	p := s.WH.Dialect.Placeholder
	return s.runs(ctx, fmt.Sprintf("(%s = '' OR {source} = %s)", p(1), p(2)), []any{source, source}, limit)
}

// Run reads one completed run by its id; nil when there is none.
func (s *Sink) Run(ctx context.Context, runID string) (*audit.Run, error) {
	runs, err := s.runs(ctx, "{run_id} = "+s.WH.Dialect.Placeholder(1), []any{runID}, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// runs reads the runs matching where (a condition in {column} form, with
// args), newest first.
func (s *Sink) runs(ctx context.Context, where string, args []any, limit int) ([]audit.Run, error) {
	d := s.WH.Dialect
	// Tables an older eventaudit wrote lack the newer columns until a run
	// adds them; reading the history must not need write access.
	have, err := s.columns(ctx, RunsTable)
	if err != nil {
		return nil, err
	}
	newer := make([]string, 0, 7)
	for _, c := range []string{"label", "latest_received_at", "duplicate_rows", "rows_proven", "rows_fetched", "bytes_fetched",
		"violations_suppressed"} {
		if have[c] {
			newer = append(newer, d.QuoteName(c))
		} else {
			newer = append(newer, "NULL")
		}
	}
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {run_id}, {source}, {window_start}, {window_end}, {started_at}, {finished_at},
  {status}, {rows_scanned}, {rows_invalid}, {rows_unplanned}, {violations}, {schemas_digest}, {version}, {shard}, %s
FROM %s WHERE `+where+` ORDER BY {finished_at} DESC, {run_id} DESC LIMIT %d`,
		strings.Join(newer, ", "), s.WH.Dialect.Quote(s.table(RunsTable)), limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RunsTable, err)
	}
	defer rows.Close()
	var out []audit.Run
	for rows.Next() {
		var r audit.Run
		var shard string
		// Runs recorded before these columns existed hold NULLs.
		var label *string
		var latest *time.Time
		var dups, proven, fetched, bytes, suppressed *int64
		if err := rows.Scan(&r.RunID, &r.Source, &r.Window.Start, &r.Window.End, &r.StartedAt, &r.FinishedAt, &r.Status,
			&r.RowsScanned, &r.RowsInvalid, &r.RowsUnplanned, &r.Violations, &r.SchemasDigest, &r.Version, &shard,
			&label, &latest, &dups, &proven, &fetched, &bytes, &suppressed); err != nil {
			return nil, err
		}
		for _, c := range []struct {
			from *int64
			to   *int64
		}{{proven, &r.RowsProven}, {fetched, &r.RowsFetched}, {bytes, &r.BytesFetched}, {suppressed, &r.ViolationsSuppressed}} {
			if c.from != nil {
				*c.to = *c.from
			}
		}
		if label != nil {
			r.Label = *label
		}
		if latest != nil {
			r.LatestReceivedAt = latest.UTC()
		}
		if dups != nil {
			r.DuplicateRows = *dups
		}
		if r.Shard, err = audit.ParseShard(shard); err != nil {
			return nil, err
		}
		for _, t := range []*time.Time{&r.Window.Start, &r.Window.End, &r.StartedAt, &r.FinishedAt} {
			*t = t.UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Previous reads the newest completed run like run (audit.Store), with its
// event statistics; nil when there is none among the source's last 200.
func (s *Sink) Previous(ctx context.Context, run audit.Run) (*audit.Previous, error) {
	history, err := s.History(ctx, run, 1)
	if err != nil || len(history) == 0 {
		return nil, err
	}
	return &history[0], nil
}

// History reads up to n completed runs like run (audit.Like) that finished
// before it, newest first, each with its event statistics; it looks at the
// source's last 200 runs, so n stays far below every dialect's parameter
// cap.
func (s *Sink) History(ctx context.Context, run audit.Run, n int) ([]audit.RunStats, error) {
	runs, err := s.RecentRuns(ctx, run.Source, 200)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	var out []audit.RunStats
	at := map[string]int{}
	for _, r := range runs {
		if len(out) == n {
			break
		}
		if r.RunID == run.RunID || !audit.Like(r, run) || (!run.FinishedAt.IsZero() && r.FinishedAt.After(run.FinishedAt)) {
			continue
		}
		at[r.RunID] = len(out)
		out = append(out, audit.RunStats{Run: r})
	}
	if len(out) == 0 {
		return nil, nil
	}
	// One statement for all of them: on a remote warehouse a round trip
	// per run would cost more than the page.
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.Run.RunID
	}
	stats, err := s.Stats(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for _, st := range stats {
		i := at[st.RunID]
		out[i].Stats = append(out[i].Stats, st)
	}
	return out, nil
}

// Stats reads the rows of eventaudit_event_stats of the runs with the
// given ids, in one statement.
func (s *Sink) Stats(ctx context.Context, runIDs ...string) ([]audit.EventStats, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	d := s.WH.Dialect
	marks, args := make([]string, len(runIDs)), make([]any, len(runIDs))
	for i, id := range runIDs {
		marks[i], args[i] = d.Placeholder(i+1), id
	}
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {run_id}, {event_type}, {event_name}, {schema_id}, {rows}, {invalid_rows}, {unplanned}
FROM %s WHERE {run_id} IN (%s)`, d.Quote(s.table(StatsTable)), strings.Join(marks, ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StatsTable, err)
	}
	defer rows.Close()
	var out []audit.EventStats
	for rows.Next() {
		var st audit.EventStats
		if err := rows.Scan(&st.RunID, &st.EventType, &st.EventName, &st.SchemaID, &st.Rows, &st.InvalidRows, &st.Unplanned); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Summary rebuilds a completed run's summary from the result tables
// (audit.SummaryOf), as `eventaudit report` draws it. Its checks come from
// the violations the run still has, which a later run over the same rows
// replaces.
func (s *Sink) Summary(ctx context.Context, run audit.Run) (*audit.Summary, error) {
	stats, err := s.Stats(ctx, run.RunID)
	if err != nil {
		return nil, err
	}
	unplanned := map[[3]string]bool{}
	for _, st := range stats {
		if st.Unplanned {
			unplanned[[3]string{st.EventType, st.EventName, st.SchemaID}] = true
		}
	}
	checks, err := s.Checks(ctx, run.RunID, func(t, n, id string) bool { return unplanned[[3]string{t, n, id}] })
	if err != nil {
		return nil, err
	}
	summary := audit.SummaryOf(run, stats, checks)
	props, err := s.Properties(ctx, run.RunID)
	if err != nil {
		return nil, err
	}
	if len(props) > 0 {
		summary.Drift = audit.DriftFromTables(audit.ProfilesOf(props, stats))
	}
	return summary, nil
}

// Properties reads a run's rows of eventaudit_property_stats: none when
// the run kept no profile, or the results predate the table.
func (s *Sink) Properties(ctx context.Context, runID string) ([]audit.PropertyStats, error) {
	have, err := s.columns(ctx, PropertiesTable)
	if err != nil || len(have) == 0 {
		return nil, err
	}
	d := s.WH.Dialect
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {event_type}, {event_name}, {schema_id}, {path}, {json_type}, {rows}, {in_plan}, {example}
FROM %s WHERE {run_id} = %s`, d.Quote(s.table(PropertiesTable)), d.Placeholder(1)), runID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", PropertiesTable, err)
	}
	defer rows.Close()
	var out []audit.PropertyStats
	for rows.Next() {
		p := audit.PropertyStats{RunID: runID}
		var example *string
		if err := rows.Scan(&p.EventType, &p.EventName, &p.SchemaID, &p.Path, &p.JSONType, &p.Rows, &p.InPlan, &example); err != nil {
			return nil, err
		}
		if example != nil {
			p.Example = *example
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Checks reads a run's failed checks from eventaudit_violations, each with
// its violation of the smallest (message id, message), as the run's own
// summary chose it; unplanned says which events the run's statistics mark
// unplanned. A later run over the same rows replaces their violations, so
// an older run may have fewer left than it recorded.
func (s *Sink) Checks(ctx context.Context, runID string, unplanned func(eventType, eventName, schemaID string) bool) ([]audit.CheckSummary, error) {
	d := s.WH.Dialect
	have, err := s.columns(ctx, ViolationsTable)
	if err != nil {
		return nil, err
	}
	counted := ""
	if have["suppressed"] {
		// What an ignore: entry accepted counts toward no check.
		counted = d.SQL(` AND COALESCE({suppressed}, FALSE) = FALSE`)
	}
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {event_type}, {event_name}, {schema_id}, {keyword}, {instance_path}, n,
  {message_id}, {received_at}, {message}, {value}
FROM (
  SELECT {event_type}, {event_name}, {schema_id}, {keyword}, {instance_path}, {message_id}, {received_at}, {message}, {value},
    COUNT(*) OVER (PARTITION BY {event_type}, {event_name}, {schema_id}, {keyword}, {instance_path}) AS n,
    ROW_NUMBER() OVER (PARTITION BY {event_type}, {event_name}, {schema_id}, {keyword}, {instance_path}
      ORDER BY {message_id}, {message}) AS pick
  FROM %s WHERE {run_id} = %s%s
) picked WHERE pick = 1`, d.Quote(s.table(ViolationsTable)), d.Placeholder(1), counted), runID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ViolationsTable, err)
	}
	defer rows.Close()
	var out []audit.CheckSummary
	for rows.Next() {
		var c audit.CheckSummary
		var value *string
		var at *time.Time
		if err := rows.Scan(&c.Type, &c.Name, &c.SchemaID, &c.Keyword, &c.Path, &c.Violations,
			&c.Example.MessageID, &at, &c.Example.Message, &value); err != nil {
			return nil, err
		}
		c.Unplanned = unplanned(c.Type, c.Name, c.SchemaID) || c.Keyword == audit.KeywordUnplannedTable
		x := &c.Example
		x.RunID, x.EventType, x.EventName, x.SchemaID, x.Keyword, x.InstancePath = runID, c.Type, c.Name, c.SchemaID, c.Keyword, c.Path
		if at != nil {
			x.ReceivedAt = at.UTC()
		}
		if value != nil {
			x.Value = *value
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AdoptSource renames the history recorded under older spellings of a
// source (before sources were resolved through the catalog) to its
// canonical name, so an upgraded nightly job keeps its watermark, its
// trend and the results its re-runs replace. It costs one read of the runs
// table when there is nothing to rename.
func (s *Sink) AdoptSource(ctx context.Context, canonical string, spellings []string) error {
	if len(spellings) == 0 {
		return nil
	}
	d := s.WH.Dialect
	p := d.Placeholder
	// marks renders the IN list's placeholders, numbered from first.
	marks := func(first int) string {
		m := make([]string, len(spellings))
		for i := range spellings {
			m[i] = p(first + i)
		}
		return strings.Join(m, ", ")
	}
	old := make([]any, len(spellings))
	for i, sp := range spellings {
		old[i] = sp
	}
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT COUNT(*) FROM %s WHERE {source} IN (%s)`,
		d.Quote(s.table(RunsTable)), marks(1)), old...)
	if err != nil {
		return fmt.Errorf("read the runs of %s: %w", canonical, err)
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil || n == 0 {
		return err
	}
	tx, err := s.WH.Conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, t := range []string{RunsTable, ViolationsTable, StatsTable, PropertiesTable} {
		if err := tx.Exec(ctx, d.SQL(`UPDATE %s SET {source} = %s WHERE {source} IN (%s)`, d.Quote(s.table(t)), p(1), marks(2)),
			append([]any{canonical}, old...)...); err != nil {
			return fmt.Errorf("rename the history of %s: %w", canonical, err)
		}
	}
	return tx.Commit(ctx)
}

// HasResults reports whether the results schema holds an eventaudit_runs
// table.
func (s *Sink) HasResults(ctx context.Context) (bool, error) {
	if s.ensured.Load() {
		return true, nil
	}
	q, args := s.WH.Dialect.Columns(s.Schema, RunsTable)
	rows, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// Fingerprints lists the failures the source's earlier runs recorded
// (audit.FingerprintSource), accepted ones included: a problem that was
// seen is not new. No result tables yet means none.
func (s *Sink) Fingerprints(ctx context.Context, run audit.Run) (map[audit.Fingerprint]bool, error) {
	have, err := s.columns(ctx, ViolationsTable)
	if err != nil || len(have) == 0 {
		return map[audit.Fingerprint]bool{}, err
	}
	d := s.WH.Dialect
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT DISTINCT COALESCE({event_type}, ''), COALESCE({event_name}, ''), COALESCE({keyword}, ''), COALESCE({instance_path}, '')
FROM %s WHERE {source} = %s`,
		d.Quote(s.table(ViolationsTable)), d.Placeholder(1)), run.Source)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ViolationsTable, err)
	}
	defer rows.Close()
	out := map[audit.Fingerprint]bool{}
	for rows.Next() {
		var typ, name, keyword, path string
		if err := rows.Scan(&typ, &name, &keyword, &path); err != nil {
			return nil, err
		}
		out[audit.FingerprintOf(typ, name, keyword, path)] = true
	}
	return out, rows.Err()
}
