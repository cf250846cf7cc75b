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

// Overlaps reports whether some message falls in both s and o. A shard K/N
// holds the messages whose hash h has h mod N = K; by the Chinese remainder
// theorem, K/N and K'/N' share messages exactly when K ≡ K' modulo
// gcd(N, N'). The whole window overlaps every shard.
func (s Shard) Overlaps(o Shard) bool {
	if !s.Sharded() || !o.Sharded() {
		return true
	}
	g := gcd(s.Count, o.Count)
	return s.Index%g == o.Index%g
}

// Covers reports whether every message of o is also in s: N divides N' and
// K' mod N = K. The whole window covers every shard.
func (s Shard) Covers(o Shard) bool {
	if !s.Sharded() {
		return true
	}
	if !o.Sharded() {
		return false
	}
	return o.Count%s.Count == 0 && o.Index%s.Count == s.Index
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
