package audit

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects the rows whose message_id hashes to Index out of Count, so N
// workers can split one window. The zero value means "all rows".
type Shard struct {
	Index, Count int
}

// Sharded reports whether s selects a subset.
func (s Shard) Sharded() bool { return s.Count > 1 }

// String is "K/N", or "" for all rows.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads "K/N" with 0 ≤ K < N; "" is all rows.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 0 <= K < N, e.g. 0/4 … 3/4", s)
	}
	if ni == 1 {
		return Shard{}, nil
	}
	return Shard{Index: ki, Count: ni}, nil
}
