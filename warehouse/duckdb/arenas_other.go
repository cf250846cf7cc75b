//go:build !(linux && cgo)

package duckdb

// mallocArenas is 0 where the C library is not glibc: the cap is glibc's
// setting.
const mallocArenas = 0

func mallocHeaps() int { return -1 }
