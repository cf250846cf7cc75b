package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/eventaudit/eventaudit/audit"
)

// Exit codes (DESIGN.md §6). This file is the one place errors become codes.
const (
	exitOK          = 0
	exitThreshold   = 1
	exitUsage       = 2
	exitRuntime     = 3
	exitInterrupted = 130
)

// errThreshold means the command finished and its findings are over the
// user's limits; its message has already been printed.
var errThreshold = errors.New("over threshold")

// usageError marks bad flags or arguments.
type usageError struct{ error }

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errThreshold):
		return exitThreshold
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue), audit.IsConfig(err):
		return exitUsage
	}
	return exitRuntime
}

// reportError prints err for a person, with what to do next where we know;
// with --log-format json, as one JSON log line with the exit code, so that
// every line of stderr is JSON.
func reportError(w io.Writer, logger *slog.Logger, jsonLogs bool, err error, redact func(string) string) {
	code := exitCode(err)
	msg := redact(err.Error())
	switch code {
	case exitThreshold:
		return
	case exitInterrupted:
		msg = "interrupted; nothing was written"
	}
	if jsonLogs && logger != nil {
		logger.Error(msg, "exit", code)
		return
	}
	fmt.Fprintf(w, "eventaudit: %s\n", msg)
}
