package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
)

type loadOptions struct {
	Warehouse   string
	Table       string
	PayloadType string
	Replace     bool
	Files       []string
}

func newCmdLoad(d *deps, root *rootOptions, runF func(context.Context, *loadOptions) error) *cobra.Command {
	o := &loadOptions{}
	cmd := &cobra.Command{
		Use:   "load FILE.ndjson...",
		Short: "Load newline-delimited Segment messages into a raw events table (demo and testing)",
		Long: `Load newline-delimited JSON into a raw-layout table (message_id, received_at, payload),
creating it if missing. Each line is either a table row
  {"message_id": "…", "received_at": "2026-11-20T10:00:00Z", "payload": "<message JSON as a string>" | null}
or a plain Segment message, whose messageId and receivedAt fill the first two columns.`,
		Example: `  eventaudit load --warehouse duckdb://demo.duckdb --table segment_events testdata/demo/events.ndjson`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Warehouse == "" || o.Table == "" {
				return usageError{errors.New("load needs --warehouse and --table")}
			}
			o.Files = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runLoad(cmd.Context(), d, o)
		},
	}
	b := binder{path: "load", flags: cmd.Flags()}
	b.str(&o.Warehouse, "warehouse")
	b.str(&o.Table, "table")
	b.str(&o.PayloadType, "payload-type")
	b.boolean(&o.Replace, "replace")
	return cmd
}

func runLoad(ctx context.Context, d *deps, o *loadOptions) error {
	if _, err := warehouse.TableName(o.Table); err != nil {
		return usageError{fmt.Errorf("--table: %w", err)}
	}
	var rows []audit.Row
	for _, path := range o.Files {
		f, err := os.Open(path)
		if err != nil {
			return usageError{err}
		}
		rs, err := ReadNDJSON(f)
		f.Close()
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", path, err)}
		}
		rows = append(rows, rs...)
	}
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	loader, err := wh.Loader(ctx, o.Table, o.PayloadType, o.Replace)
	if err != nil {
		return err
	}
	if err := loader.Load(ctx, rows); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "loaded %d rows into %s\n", len(rows), loader.Table())
	return nil
}

// ReadNDJSON reads rows in either of the forms load accepts.
func ReadNDJSON(r io.Reader) ([]audit.Row, error) {
	sc := bufio.NewScanner(r)
	// Lines are whole messages; a pathological one (tests of the payload
	// limit load 50 MB rows) is read rather than refused.
	const maxLine = 256 << 20
	sc.Buffer(make([]byte, 1<<20), maxLine)
	var rows []audit.Row
	line := 1
	for ; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec struct {
			MessageID  string          `json:"message_id"`
			ReceivedAt time.Time       `json:"received_at"`
			Payload    json.RawMessage `json:"payload"`
			// plain Segment messages
			SegmentID       string    `json:"messageId"`
			SegmentReceived time.Time `json:"receivedAt"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		row := audit.Row{MessageID: rec.MessageID, ReceivedAt: rec.ReceivedAt}
		switch {
		case rec.MessageID == "" && rec.SegmentID != "":
			row = audit.Row{MessageID: rec.SegmentID, ReceivedAt: rec.SegmentReceived,
				Payload: append([]byte(nil), sc.Bytes()...)}
		case string(rec.Payload) == "null" || rec.Payload == nil:
			// NULL payload
		default:
			var s string
			if err := json.Unmarshal(rec.Payload, &s); err != nil {
				return nil, fmt.Errorf("line %d: payload must be a JSON string holding the message, or null", line)
			}
			row.Payload = []byte(s)
		}
		if row.ReceivedAt.IsZero() {
			return nil, fmt.Errorf("line %d: no received_at", line)
		}
		rows = append(rows, row)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("line %d: longer than %d MB; nothing was loaded", line, maxLine>>20)
	}
	return rows, sc.Err()
}
