package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/schemas/s3fs"
	"github.com/eventaudit/eventaudit/warehouse"
)

// writeHTML draws the audit's page (audit --html). A history that cannot
// be read is a page without a trend that says why, not a lost page.
func (o *auditOptions) writeHTML(ctx context.Context, d *deps, done *audited) error {
	page := reports.HTMLPage{Summary: done.summary, History: done.history, DryRun: o.DryRun, Version: version}
	if done.historyErr != nil {
		d.logger.Warn("the HTML page draws no trend: the earlier runs could not be read", "err", d.redact(done.historyErr.Error()))
	}
	if !o.DryRun {
		page.CheckQuery = checkQuery(done.results, done.summary.Run.RunID)
	}
	to, err := writePage(ctx, d, o.HTML, page)
	if err != nil {
		note := "the audit's results are committed"
		if o.DryRun {
			note = "it was a dry run"
		}
		return fmt.Errorf("the HTML page was not written (%s; exit 3 so that a retry writes it): %w", note, err)
	}
	d.logger.Info("wrote the HTML page", "to", to)
	return nil
}

func checkQuery(results *warehouse.Results, runID string) func(audit.CheckSummary) string {
	return func(c audit.CheckSummary) string { return results.CheckQuery(runID, c) }
}

// writePage renders the page to dest, a file or s3://BUCKET/KEY, with
// {run_id} and {source} substituted; it returns where the page went. A
// file is written whole or not at all.
func writePage(ctx context.Context, d *deps, dest string, page reports.HTMLPage) (string, error) {
	var b bytes.Buffer
	if err := reports.HTML(&b, page); err != nil {
		return "", err
	}
	r := page.Summary.Run
	// A source may hold "/" (never in a table name, but in a hand-typed
	// label of one); it must not open a directory.
	dest = strings.NewReplacer("{run_id}", r.RunID, "{source}", strings.ReplaceAll(r.Source, "/", "_")).Replace(dest)
	if strings.HasPrefix(dest, "s3://") {
		client, err := s3Client(ctx, d)
		if err != nil {
			return "", err
		}
		return dest, s3fs.Put(ctx, client, dest, b.Bytes(), "text/html; charset=utf-8")
	}
	return dest, writeFileAtomic(dest, b.Bytes())
}

// writeFileAtomic writes data to dest whole or not at all: a reader (a
// browser, node_exporter's textfile collector) never sees half a file.
func writeFileAtomic(dest string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".eventaudit-*"+filepath.Ext(dest)+".tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w (does the folder exist?)", dest, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return nil
}
