package duckdb

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestDuckDBProcessKeepsTwoMallocArenas runs DuckDB's threads in a
// process of their own, since arenas once made stay for the life of a
// process, and counts the arenas glibc made. The same process under
// MALLOC_ARENA_MAX=8 makes more than two: the user's setting stands, and
// the workload would pass the cap where nothing set it.
func TestDuckDBProcessKeepsTwoMallocArenas(t *testing.T) {
	if os.Getenv("EVENTAUDIT_TEST_ARENAS") == "child" {
		arenasChild()
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("the arenas are glibc's")
	}
	heaps := func(env ...string) int {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestDuckDBProcessKeepsTwoMallocArenas$")
		cmd.Env = append(os.Environ(), "EVENTAUDIT_TEST_ARENAS=child", "MALLOC_ARENA_MAX=", "GLIBC_TUNABLES=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		_, after, ok := strings.Cut(string(out), "heaps=")
		if !ok {
			t.Fatalf("child printed no heap count:\n%s", out)
		}
		n, err := strconv.Atoi(strings.Fields(after)[0])
		if err != nil || n < 0 {
			t.Fatalf("child's heap count: %q (%v); is this glibc?", after, err)
		}
		return n
	}
	if n := heaps("MALLOC_ARENA_MAX=8"); n <= mallocArenas {
		t.Fatalf("with MALLOC_ARENA_MAX=8 the workload made %d arenas: it cannot tell a cap from none", n)
	}
	if n := heaps(); n > mallocArenas {
		t.Errorf("a process that ran DuckDB on four threads has %d malloc arenas, want at most %d", n, mallocArenas)
	}
}

// arenasChild opens DuckDB with four threads, runs a query that keeps
// them all allocating, and prints how many arenas glibc made.
func arenasChild() {
	ctx := context.Background()
	wh, err := Open(ctx, "duckdb://:memory:?threads=4&memory_limit=512MB")
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	defer wh.Conn.Close()
	rows, err := wh.Conn.Query(ctx, "SELECT count(DISTINCT md5(i::VARCHAR)) FROM range(1000000) t(i)")
	if err != nil {
		fmt.Println("query:", err)
		os.Exit(1)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		fmt.Println("query:", err)
		os.Exit(1)
	}
	rows.Close()
	fmt.Printf("heaps=%d\n", mallocHeaps())
}
