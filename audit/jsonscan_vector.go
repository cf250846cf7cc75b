//go:build goexperiment.simd && amd64

package audit

import "simd/archsimd"

// builtWithVectors says this build has the 16-byte string scan: a build
// with GOEXPERIMENT=simd (the Makefile's) on amd64.
const builtWithVectors = true

// haveVectors turns the 16-byte string scan on where the CPU has the AVX
// its instructions are encoded in; tests turn it off to check the eight-byte
// scan beside it.
var haveVectors = archsimd.X86.AVX()

// setVectors turns the 16-byte scan on or off, where the CPU has it, and
// says whether it was on.
func setVectors(on bool) (was bool) {
	was, haveVectors = haveVectors, on && archsimd.X86.AVX()
	return was
}

// The stop bytes' bounds, a copy a lane. The scan loads them from memory
// rather than broadcasting them: a broadcast a chunk costs more, and one
// hoisted out of the loop makes stopMask16 too large for the inliner.
var quote16, backslash16, control16 [16]byte

func init() {
	for i := range 16 {
		quote16[i], backslash16[i], control16[i] = '"', '\\', 0x1f
	}
}

// stopMask16 flags, one bit a byte, the stringStop bytes of *p: exactly,
// unlike stopBytes's borrows. A control character is a byte whose unsigned
// minimum with 0x1f is itself.
func stopMask16(p *[16]byte) uint16 {
	x := archsimd.LoadUint8x16(p)
	return x.Equal(archsimd.LoadUint8x16(&quote16)).
		Or(x.Equal(archsimd.LoadUint8x16(&backslash16))).
		Or(x.Min(archsimd.LoadUint8x16(&control16)).Equal(x)).
		ToBits()
}
