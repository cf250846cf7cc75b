// Command eventaudit audits Segment events in a warehouse against a
// Reflekt-style tracking plan of JSON Schemas.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		// The first signal cancels the run, which rolls its transaction
		// back; a second one means "now".
		cancel()
		<-sigs
		os.Exit(exitInterrupted)
	}()
	// EVENTAUDIT_CPUPROFILE=file writes a pprof CPU profile of the run.
	if path := os.Getenv("EVENTAUDIT_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	if limit, ok := softMemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	cancel()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// goMemoryLimit is the soft limit on the Go runtime's memory that eventaudit
// sets where GOMEMLIMIT sets none. A run's peak RSS is bounded at 256 MB:
// 60–85 MB of it is the binary's own pages, while Go's heap, whose live
// part is 20–60 MB, grows to 2.5 times that between collections.
// Snowflake's 3M-row run peaked at 246–275 MB without the limit and 210–217
// MB with it, in the same time (docs/performance.md). DuckDB's allocations
// are its own, outside the limit. A live heap past the limit is collected
// more often, never refused: the runtime caps the collector at half the
// CPU while it holds the limit.
const goMemoryLimit = 150 << 20

// softMemoryLimit is the limit to set, unless GOMEMLIMIT (Go's own setting,
// "off" included) already says.
func softMemoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	return goMemoryLimit, true
}
