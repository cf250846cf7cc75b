package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// appendRows loads rows through DuckDB's Appender, on the transaction's
// own connection, so that they commit or roll back with the run: several
// times faster than multi-row INSERTs, which DuckDB parses and plans.
//
// The Appender would store a Go string as a JSON string in a JSON column,
// not as the document it holds, so a table with a JSON column takes the
// INSERT path, whose SQL casts each value.
func appendRows(ctx context.Context, tx *sqlwh.StdTx, d *sqlwh.Dialect, table sqlwh.Ident, cols []string, rows [][]any) error {
	err := appendTo(ctx, tx, d, table, cols, rows)
	if sqlwh.OutOfMemory(err) {
		// DuckDB's own advice names its settings, and one of them
		// (preserve_insertion_order=false) makes appends fail sooner.
		return fmt.Errorf("DuckDB ran out of memory appending to %s, and the transaction writes nothing: "+
			"raise its limit on the warehouse URL (duckdb://FILE?memory_limit=256MB; eventaudit sets %s where the URL sets none), "+
			"or write less at once (an audit: its window in shards): %w", table, DefaultMemoryLimit, err)
	}
	return err
}

func appendTo(ctx context.Context, tx *sqlwh.StdTx, d *sqlwh.Dialect, table sqlwh.Ident, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	json, err := hasJSON(ctx, tx, d, table)
	if err != nil {
		return err
	}
	if json {
		return d.InsertBatched(ctx, tx, table, cols, rows)
	}
	var catalog, schema string
	switch len(table) {
	case 2:
		schema = table[0]
	case 3:
		catalog, schema = table[0], table[1]
	}
	return tx.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a DuckDB driver connection: %T", dc)
		}
		a, err := duckdb.NewAppenderWithColumns(dconn, catalog, schema, table.Table(), cols)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		vals := make([]driver.Value, len(cols))
		for _, r := range rows {
			for i, v := range r {
				vals[i] = v
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		return nil
	})
}

// jsonTables remembers, for one transaction (StdTx.BulkState), which
// tables have a JSON column, as the catalog answered the first time: a
// run appends to its violations table every few thousand rows, and the
// question cost 2-8 ms each time.
type jsonTables map[string]bool

func hasJSON(ctx context.Context, tx *sqlwh.StdTx, d *sqlwh.Dialect, table sqlwh.Ident) (bool, error) {
	known, _ := tx.BulkState.(jsonTables)
	key := table.String()
	if json, ok := known[key]; ok {
		return json, nil
	}
	json, err := hasJSONColumn(ctx, tx, d, table)
	if err != nil {
		return false, err
	}
	if known == nil {
		known = jsonTables{}
		tx.BulkState = known
	}
	known[key] = json
	return json, nil
}

// hasJSONColumn asks the catalog, through the dialect's own column query,
// inside the transaction.
func hasJSONColumn(ctx context.Context, tx *sqlwh.StdTx, d *sqlwh.Dialect, table sqlwh.Ident) (bool, error) {
	q, args := d.Columns(table.Schema(), table.Table())
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", table, err)
	}
	defer rows.Close()
	json := false
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return false, fmt.Errorf("describe %s: %w", table, err)
		}
		json = json || strings.EqualFold(typ, "JSON")
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("describe %s: %w", table, err)
	}
	return json, nil
}
