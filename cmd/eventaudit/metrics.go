package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
)

// metricsTimeout bounds a push: a hung gateway must not hold the nightly
// job past its slot.
const metricsTimeout = 30 * time.Second

// deliverMetrics pushes and writes the run's metrics. Metrics are a side
// channel: a gateway that is down or a file that cannot be written warns
// and changes neither the results nor the exit status. A dry run delivers
// none, since its gauges would overwrite the real runs'.
func (o *auditOptions) deliverMetrics(ctx context.Context, d *deps, s *audit.Summary) {
	if o.MetricsPush == "" && o.MetricsFile == "" {
		return
	}
	if o.DryRun {
		d.logger.Info("dry run: no metrics pushed or written")
		return
	}
	if o.MetricsPush != "" {
		pctx, cancel := context.WithTimeout(ctx, metricsTimeout)
		defer cancel()
		if err := reports.PushMetrics(pctx, &http.Client{Timeout: metricsTimeout}, o.MetricsPush, s); err != nil {
			d.logger.Warn("metrics not pushed; the audit's results and exit status stand", "err", d.redact(err.Error()))
		} else {
			d.logger.Info("metrics pushed", "gateway", d.redact(o.MetricsPush))
		}
	}
	if o.MetricsFile != "" {
		dest := strings.ReplaceAll(o.MetricsFile, "{source}", strings.ReplaceAll(s.Run.Source, "/", "_"))
		var b bytes.Buffer
		err := reports.WriteMetrics(&b, s)
		if err == nil {
			err = writeFileAtomic(dest, b.Bytes())
		}
		if err != nil {
			d.logger.Warn("metrics file not written; the audit's results and exit status stand", "err", d.redact(err.Error()))
		} else {
			d.logger.Info("metrics written", "file", dest)
		}
	}
}
