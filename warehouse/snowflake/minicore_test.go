package snowflake_test

import (
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// The Snowflake driver embeds a native library ("minicore") which, unless
// it is built out, the driver writes to a temporary folder and loads at
// the start of every process that links it: every eventaudit run, DuckDB's
// included. A run that exits before the load ends, like `eventaudit
// version`, leaves the folder and the library behind, one a run. make,
// the Dockerfile and the benchmark scripts build it out with the driver's
// tag minicore_disabled; this test fails a CI build without it.
func TestBuiltWithoutTheDriversNativeLibrary(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	var tags []string
	for _, s := range info.Settings {
		if s.Key == "-tags" {
			tags = strings.Split(s.Value, ",")
		}
	}
	if !slices.Contains(tags, "minicore_disabled") {
		if os.Getenv("CI") != "" {
			t.Fatalf("built with tags %q, without minicore_disabled: each run would write gosnowflake's native library to a temporary folder (run make test, which sets the tag)", tags)
		}
		t.Skip("built without -tags minicore_disabled; make test sets it")
	}
}
