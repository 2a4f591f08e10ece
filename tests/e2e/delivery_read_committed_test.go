package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReadCommittedHidesAbortedRecords: two confluent-kafka transactional
// producers write to the same partitions at the same time, record by
// record, one always committing and one always aborting
// (testdata/ck_txn_mix.py), so committed and aborted batches interleave in
// every partition; the last round aborts last, so every partition ends
// with an abort marker. A confluent-kafka consumer with
// isolation.level=read_committed and kcat with the same setting read
// exactly the committed records, in order; a read_uncommitted consumer
// reads both, in the order they were written.
func TestReadCommittedHidesAbortedRecords(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	const topic, partitions, rounds, perRound = "txn-mix", 3, 5, 12
	makeTopic(t, b, topic, partitions)
	var res struct{ Committed, Aborted []string }
	runScript(t, "ck_txn_mix.py", &res, b.Addr, topic, strconv.Itoa(partitions), strconv.Itoa(rounds), strconv.Itoa(perRound))

	// Per partition, in write order: both producers' records, and the
	// committer's alone.
	all, committed := map[string][]string{}, map[string][]string{}
	var wantCommitted, wantAborted []string
	for r := range rounds {
		for j := range perRound {
			p := strconv.Itoa(j % partitions)
			c, a := fmt.Sprintf("c-%d-%d", r, j), fmt.Sprintf("a-%d-%d", r, j)
			all[p] = append(all[p], c, a)
			committed[p] = append(committed[p], c)
			wantCommitted, wantAborted = append(wantCommitted, c), append(wantAborted, a)
		}
	}
	if !slices.Equal(res.Committed, wantCommitted) || !slices.Equal(res.Aborted, wantAborted) {
		t.Fatalf("ck_txn_mix.py wrote committed %.5q..., aborted %.5q...; not the planned records", res.Committed, res.Aborted)
	}

	for _, c := range []struct {
		isolation string
		want      map[string][]string
	}{
		{"read_committed", committed},
		{"read_uncommitted", all},
	} {
		var got struct{ Values map[string][]string }
		runScript(t, "ck_read.py", &got, b.Addr, topic, c.isolation)
		for p := range partitions {
			ps := strconv.Itoa(p)
			if !slices.Equal(got.Values[ps], c.want[ps]) {
				t.Errorf("confluent-kafka %s read partition %d as\n%q\nwant\n%q", c.isolation, p, got.Values[ps], c.want[ps])
			}
		}
	}

	out := kcat(t, b, "", "-C", "-t", topic, "-o", "beginning", "-e", "-X", "isolation.level=read_committed", "-f", "%p %s\n")
	byPartition := map[string][]string{}
	for line := range strings.Lines(out) {
		p, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		byPartition[p] = append(byPartition[p], v)
	}
	for p := range partitions {
		ps := strconv.Itoa(p)
		if !slices.Equal(byPartition[ps], committed[ps]) {
			t.Errorf("kcat read_committed read partition %d as\n%q\nwant\n%q", p, byPartition[ps], committed[ps])
		}
	}
}
