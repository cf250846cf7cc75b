package audit

import (
	"os"
	"runtime"
	"testing"
)

// make, the Dockerfile and the benchmark scripts build with
// GOEXPERIMENT=simd, which gives the scanner its 16-byte string scan
// (jsonscan_vector.go). A build without it scans eight bytes a turn, with
// the same results and 5-10% more of the core's CPU; this test fails a CI
// build on amd64 without it, or on a CPU without the AVX it needs, so the
// figures CI's benchmarks print are the vector scan's.
func TestBuiltWithTheVectorStringScan(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the 16-byte string scan is built for amd64 only")
	}
	switch {
	case !builtWithVectors && os.Getenv("CI") != "":
		t.Fatal("built without GOEXPERIMENT=simd: strings are scanned eight bytes a turn (run make test, which sets it)")
	case !builtWithVectors:
		t.Skip("built without GOEXPERIMENT=simd; make test sets it")
	case !haveVectors && os.Getenv("CI") != "":
		t.Fatal("built with the 16-byte string scan, but this CPU has no AVX: strings are scanned eight bytes a turn")
	}
}
