// Command eventaudit-corpus writes a deterministic Segment corpus for the
// demo plan (testdata/demo/schemas) and the ground truth of its injected bugs.
//
//	go run ./cmd/eventaudit-corpus -n 3000 -bad 0.08 -seed 1 -out testdata/demo
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eventaudit/eventaudit/audit/audittest"
)

func main() {
	n := flag.Int("n", 3000, "messages")
	bad := flag.Float64("bad", 0.08, "fraction of messages with an injected bug")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", ".", "directory for events.ndjson and truth.json")
	flag.Parse()
	if err := write(*out, audittest.Generate(audittest.Options{N: *n, BadRate: *bad, Seed: *seed})); err != nil {
		fmt.Fprintln(os.Stderr, "eventaudit-corpus:", err)
		os.Exit(1)
	}
}

func write(dir string, c *audittest.Corpus) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "events.ndjson"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range c.Rows {
		var payload *string
		if r.Payload != nil {
			s := string(r.Payload)
			payload = &s
		}
		if err := enc.Encode(struct {
			MessageID  string    `json:"message_id"`
			ReceivedAt time.Time `json:"received_at"`
			Payload    *string   `json:"payload"`
		}{r.MessageID, r.ReceivedAt, payload}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	truth, err := json.MarshalIndent(c.Truth, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "truth.json"), append(truth, '\n'), 0o644)
}
