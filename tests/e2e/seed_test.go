package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSeedScripts runs the seed document's kafka-python producer and
// consumer, unchanged, against sluice serve: the consumer (group "test",
// earliest) must print all 100 JSON records. Only config.SERVER and
// config.TOPIC are supplied. The producer sleeps a second per record, so
// this test takes about 100 s and runs in parallel with the others.
func TestSeedScripts(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	if dups := runSeed(t, b.Addr, b.Log); dups > 0 {
		t.Fatalf("%d records printed twice", dups)
	}
}

// runSeed runs the seed's producer and consumer against bootstrap and
// checks that the consumer printed each of the 100 records; brokerLog is
// printed when it did not. It returns how many it printed again.
func runSeed(t *testing.T, bootstrap string, brokerLog func() string) (dups int) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"producer.py", "consumer.py"} {
		src, err := os.ReadFile(filepath.Join("testdata", "seed", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf("class config:\n    SERVER = %q\n    TOPIC = 'howtousekafka'\n", bootstrap)
	if err := os.WriteFile(filepath.Join(dir, "config.py"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	producer := exec.CommandContext(ctx, "/usr/bin/python3", "producer.py")
	producer.Dir = dir
	var perr strings.Builder
	producer.Stderr = &perr
	if err := producer.Start(); err != nil {
		t.Fatal(err)
	}
	consumer := exec.CommandContext(ctx, "/usr/bin/python3", "-u", "consumer.py")
	consumer.Dir = dir
	var cerr strings.Builder
	consumer.Stderr = &cerr
	out, err := consumer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := consumer.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		consumer.Process.Kill()
		consumer.Wait()
	}()

	seen := map[int]bool{}
	sc := bufio.NewScanner(out)
	for len(seen) < 100 && sc.Scan() {
		line := sc.Text() // b'{"num": 0, "ts": "..."}'
		if !strings.HasPrefix(line, "b'") || !strings.HasSuffix(line, "'") {
			t.Fatalf("consumer printed %q, want a bytes value", line)
		}
		var rec struct {
			Num int    `json:"num"`
			TS  string `json:"ts"`
		}
		if err := json.Unmarshal([]byte(line[2:len(line)-1]), &rec); err != nil {
			t.Fatalf("consumer printed %q: %v", line, err)
		}
		if seen[rec.Num] {
			dups++
		}
		seen[rec.Num] = true
	}
	if len(seen) < 100 {
		var missing []int
		for i := 0; i < 100; i++ {
			if !seen[i] {
				missing = append(missing, i)
			}
		}
		t.Fatalf("consumer printed %d of 100 records before exiting (missing %v)\nconsumer stderr:\n%s\nproducer stderr:\n%s\nbroker log:\n%s",
			len(seen), missing, cerr.String(), perr.String(), brokerLog())
	}
	if err := producer.Wait(); err != nil {
		t.Fatalf("producer: %v\n%s", err, perr.String())
	}
	for i := 0; i < 100; i++ {
		if !seen[i] {
			t.Fatalf("record %d missing", i)
		}
	}
	return dups
}
