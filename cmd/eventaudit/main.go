// Command eventaudit audits Segment events in a warehouse against a
// Reflekt-style tracking plan of JSON Schemas.
package main

import (
	"context"
	"os"
	"os/signal"
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
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	cancel()
	pprof.StopCPUProfile()
	os.Exit(code)
}
