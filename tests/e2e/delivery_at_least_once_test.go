package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestAtLeastOnceKill9KafkaPython: kafka-python with acks=1 and retries
// (no idempotence) sends 100,000 records; after 10,000 acknowledgements
// the broker is killed with SIGKILL and restarted over the same data, and
// the producer retries what was in flight. Every record ends acknowledged,
// and every acknowledged record is stored at the partition and offset it
// was acknowledged with. Duplicates are allowed (a batch appended before
// the kill whose answer was lost is appended again by the retry); the
// test counts and logs them.
func TestAtLeastOnceKill9KafkaPython(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	const topic, partitions, count, killAt = "at-least-once", 3, 100_000, 10_000
	makeTopic(t, b, topic, partitions)
	s := startScript(t, deliveryTimeout, "kp_at_least_once.py", b.Addr, topic, strconv.Itoa(count))
	type ack struct {
		p int32
		o int64
	}
	acked := make(map[int]ack, count)
	var failed []string
	killedAfter, done := -1, false
	var ev struct {
		Ack  *int   `json:"ack"`
		P    int32  `json:"p"`
		O    int64  `json:"o"`
		Err  *int   `json:"err"`
		E    string `json:"e"`
		Done bool   `json:"done"`
	}
	for s.next(&ev) {
		switch {
		case ev.Ack != nil:
			acked[*ev.Ack] = ack{ev.P, ev.O}
		case ev.Err != nil:
			failed = append(failed, strconv.Itoa(*ev.Err)+": "+ev.E)
		case ev.Done:
			done = true
		}
		if killedAfter < 0 && len(acked) >= killAt {
			killedAfter = len(acked)
			b.kill9()
			b.restart()
		}
		ev.Ack, ev.Err = nil, nil
	}
	s.wait()
	if killedAfter < 0 || !done {
		t.Fatalf("killed after %d acks; producer done %v; %d acks\nstderr:\n%s", killedAfter, done, len(acked), s.Stderr())
	}
	if len(failed) > 0 {
		t.Fatalf("%d sends failed for good despite retries: %.5q", len(failed), failed)
	}
	if len(acked) != count {
		t.Fatalf("%d of %d sends acknowledged", len(acked), count)
	}
	stored := readToSentinels(t, b, topic, partitions, kgo.ReadUncommitted())
	counts := countValues(stored)
	lost, duplicates := 0, 0
	for i := range count {
		v := strconv.Itoa(i)
		a := acked[i]
		if counts[v] == 0 {
			lost++
			t.Errorf("acknowledged record %s lost", v)
			continue
		}
		duplicates += counts[v] - 1
		if log := stored[a.p]; a.o >= int64(len(log)) || log[a.o] != v {
			t.Errorf("record %s acknowledged at %d/%d is not there", v, a.p, a.o)
		}
	}
	total := 0
	for _, vs := range stored {
		total += len(vs)
	}
	retried := strings.Count(s.Stderr(), "retrying")
	t.Logf("killed after reading %d of %d acks; %d batches retried; %d stored, %d lost, %d duplicates (records appended again by retries)",
		killedAfter, count, retried, total, lost, duplicates)
	if !strings.Contains(s.Stderr(), "Node 1 connection failed") {
		t.Errorf("kafka-python never saw its connection fail: the kill missed the load\nstderr:\n%s", s.Stderr())
	}
	if total != count+duplicates {
		t.Errorf("%d records stored, want %d acknowledged + %d duplicates: something else was stored", total, count, duplicates)
	}
}
