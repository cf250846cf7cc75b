package sqlwh

import (
	"context"
	"fmt"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// RecentRuns reads the newest completed runs, newest first; source "" is
// every source. No result tables yet means no runs.
func (s *Sink) RecentRuns(ctx context.Context, source string, limit int) ([]audit.Run, error) {
	q, args := s.WH.Dialect.Columns(s.Schema, RunsTable)
	cols, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	exists := cols.Next()
	if err := cols.Close(); err != nil || !exists {
		return nil, err
	}
	p := s.WH.Dialect.Placeholder
	rows, err := s.WH.Conn.Query(ctx, fmt.Sprintf(`SELECT "run_id", "source", "window_start", "window_end", "started_at", "finished_at",
  "status", "rows_scanned", "rows_invalid", "rows_unplanned", "violations", "schemas_digest", "version", "shard"
FROM %s WHERE (%s = '' OR "source" = %s) ORDER BY "finished_at" DESC, "run_id" DESC LIMIT %d`,
		s.WH.Dialect.Quote(s.table(RunsTable)), p(1), p(2), limit), source, source)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RunsTable, err)
	}
	defer rows.Close()
	var out []audit.Run
	for rows.Next() {
		var r audit.Run
		var shard string
		if err := rows.Scan(&r.RunID, &r.Source, &r.Window.Start, &r.Window.End, &r.StartedAt, &r.FinishedAt, &r.Status,
			&r.RowsScanned, &r.RowsInvalid, &r.RowsUnplanned, &r.Violations, &r.SchemasDigest, &r.Version, &shard); err != nil {
			return nil, err
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

// Previous reads the newest completed run of source and shard, with its
// event statistics; nil when there is none.
func (s *Sink) Previous(ctx context.Context, source string, shard audit.Shard) (*audit.Previous, error) {
	runs, err := s.RecentRuns(ctx, source, 50)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	var prev *audit.Run
	for i := range runs {
		if runs[i].Shard == shard {
			prev = &runs[i]
			break
		}
	}
	if prev == nil {
		return nil, nil
	}
	p := s.WH.Dialect.Placeholder
	rows, err := s.WH.Conn.Query(ctx, fmt.Sprintf(`SELECT "event_type", "event_name", "schema_id", "rows", "invalid_rows", "unplanned"
FROM %s WHERE "run_id" = %s`, s.WH.Dialect.Quote(s.table(StatsTable)), p(1)), prev.RunID)
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
