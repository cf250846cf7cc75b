//go:build linux && cgo

package duckdb

// DuckDB's buffer pool is its own (jemalloc, within memory_limit), but its
// threads allocate the rest through the C library's malloc, and glibc gives
// each thread an arena of its own, up to eight per core. Freed memory
// stays in the arena that held it, so a run whose appends spread over many
// threads keeps about 20 MB that no arena reuses. A window where 90% of 2M
// rows fail peaked at 263–275 MB with glibc's default and 242–257 MB with
// two arenas (4 alternating rounds), in the same time; the 1M- and 10M-row
// runs of 5% invalid rows did not change (docs/performance.md).
//
// The cap is set by a C constructor, which runs before any Go code: set
// from Open, it came too late, since a test binary's threads had made five
// arenas by then, and arenas once made stay for the life of the process.
// It is glibc's own setting, so MALLOC_ARENA_MAX or glibc.malloc.arena_max
// in GLIBC_TUNABLES, which glibc reads itself, stand.

/*
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#define EVENTAUDIT_MALLOC_ARENAS 2

__attribute__((constructor)) static void eventaudit_cap_arenas(void) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
	const char *max = getenv("MALLOC_ARENA_MAX");
	const char *tunables = getenv("GLIBC_TUNABLES");
	if ((max == NULL || *max == '\0') && (tunables == NULL || strstr(tunables, "glibc.malloc.arena_max") == NULL)) {
		mallopt(M_ARENA_MAX, EVENTAUDIT_MALLOC_ARENAS);
	}
#endif
}

// eventaudit_malloc_info is glibc's malloc_info as a string (NULL where
// there is none), for the caller to free.
static char *eventaudit_malloc_info(void) {
#if defined(__GLIBC__)
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) return NULL;
	malloc_info(0, f);
	fclose(f);
	return buf;
#else
	return NULL;
#endif
}
*/
import "C"

import (
	"strings"
	"unsafe"
)

// mallocArenas is the cap on the C allocator's arenas.
const mallocArenas = C.EVENTAUDIT_MALLOC_ARENAS

// mallocHeaps is how many arenas glibc's allocator has made in this
// process, or -1 where the C library does not say.
func mallocHeaps() int {
	info := C.eventaudit_malloc_info()
	if info == nil {
		return -1
	}
	defer C.free(unsafe.Pointer(info))
	return strings.Count(C.GoString(info), "<heap nr=")
}
