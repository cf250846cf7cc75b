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
	d := s.WH.Dialect
	p := d.Placeholder
	// Tables an older eventaudit wrote lack the newer columns until a run
	// adds them; reading the history must not need write access.
	have, err := s.columns(ctx, RunsTable)
	if err != nil {
		return nil, err
	}
	newer := make([]string, 0, 6)
	for _, c := range []string{"label", "latest_received_at", "duplicate_rows", "rows_proven", "rows_fetched", "bytes_fetched"} {
		if have[c] {
			newer = append(newer, d.QuoteName(c))
		} else {
			newer = append(newer, "NULL")
		}
	}
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {run_id}, {source}, {window_start}, {window_end}, {started_at}, {finished_at},
  {status}, {rows_scanned}, {rows_invalid}, {rows_unplanned}, {violations}, {schemas_digest}, {version}, {shard}, %s
FROM %s WHERE (%s = '' OR {source} = %s) ORDER BY {finished_at} DESC, {run_id} DESC LIMIT %d`,
		strings.Join(newer, ", "), s.WH.Dialect.Quote(s.table(RunsTable)), p(1), p(2), limit), source, source)
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
		var dups, proven, fetched, bytes *int64
		if err := rows.Scan(&r.RunID, &r.Source, &r.Window.Start, &r.Window.End, &r.StartedAt, &r.FinishedAt, &r.Status,
			&r.RowsScanned, &r.RowsInvalid, &r.RowsUnplanned, &r.Violations, &r.SchemasDigest, &r.Version, &shard,
			&label, &latest, &dups, &proven, &fetched, &bytes); err != nil {
			return nil, err
		}
		for _, c := range []struct {
			from *int64
			to   *int64
		}{{proven, &r.RowsProven}, {fetched, &r.RowsFetched}, {bytes, &r.BytesFetched}} {
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
	runs, err := s.RecentRuns(ctx, run.Source, 200)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	length := run.Window.End.Sub(run.Window.Start)
	var prev *audit.Run
	for i := range runs {
		r := &runs[i]
		if r.RunID != run.RunID && r.Shard == run.Shard && r.Label == run.Label && r.Window.End.Sub(r.Window.Start) == length {
			prev = r
			break
		}
	}
	if prev == nil {
		return nil, nil
	}
	d := s.WH.Dialect
	p := d.Placeholder
	rows, err := s.WH.Conn.Query(ctx, d.SQL(`SELECT {event_type}, {event_name}, {schema_id}, {rows}, {invalid_rows}, {unplanned}
FROM %s WHERE {run_id} = %s`, s.WH.Dialect.Quote(s.table(StatsTable)), p(1)), prev.RunID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StatsTable, err)
	}
	defer rows.Close()
	out := &audit.Previous{Run: *prev}
	for rows.Next() {
		st := audit.EventStats{RunID: prev.RunID}
		if err := rows.Scan(&st.EventType, &st.EventName, &st.SchemaID, &st.Rows, &st.InvalidRows, &st.Unplanned); err != nil {
			return nil, err
		}
		out.Stats = append(out.Stats, st)
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
	for _, t := range []string{RunsTable, ViolationsTable, StatsTable} {
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
	q, args := s.WH.Dialect.Columns(s.Schema, RunsTable)
	rows, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}
