//go:build !(goexperiment.simd && amd64)

package audit

// Without GOEXPERIMENT=simd on amd64, strings are scanned eight bytes at a
// time (stopBytes) only. haveVectors is a constant here, so that ScanString
// carries no test of it.
const builtWithVectors, haveVectors = false, false

func stopMask16(*[16]byte) uint16 { panic("audit: the 16-byte string scan is not built in") }

func setVectors(bool) (was bool) { return false }
