package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestKafkaPythonGroupSplit: three kafka-python consumers in group "test"
// split a 6-partition topic, two partitions each; when one leaves
// (close()), the two others take its partitions. Records produced before,
// between and after are each read exactly once across the group.
func TestKafkaPythonGroupSplit(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	const topic = "kp-split"
	createTopic(t, b, topic, 6)
	produceRange(t, b, topic, 6, 0, 300)
	v := newGroupView(t)
	c := []*proc{
		v.kafkaPython(b, "c0", topic, "test", 100),
		v.kafkaPython(b, "c1", topic, "test", 100),
		v.kafkaPython(b, "c2", topic, "test", 100),
	}
	v.await("three consumers owning two partitions each", v.balanced(6, 2, "c0", "c1", "c2"))
	produceRange(t, b, topic, 6, 300, 600)
	v.await("records 0..599", v.readAll(0, 600))

	v.close(c[2])
	v.await("c2 to leave", v.hasExited("c2"))
	v.await("c0 and c1 owning three partitions each", v.balanced(6, 3, "c0", "c1"))
	produceRange(t, b, topic, 6, 600, 900)
	v.await("records 0..899", v.readAll(0, 900))
	v.close(c[0])
	v.close(c[1])
	v.await("c0 and c1 to leave", v.hasExited("c0", "c1"))
	v.exactlyOnce(0, 900)
	for i := 600; i < 900; i++ {
		if r := v.reads[strconv.Itoa(i)][0]; r.From == "c2" {
			t.Fatalf("record %d read by c2 after it left", i)
		}
	}
}

// TestKafkaPythonManualCommitResumes: with enable_auto_commit=False a
// consumer that closes without committing is replaced by one that
// resumes at its last commit(): nothing before the committed offsets is
// read again, everything after them is (at-least-once).
func TestKafkaPythonManualCommitResumes(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	const topic, parts = "kp-manual", 3
	createTopic(t, b, topic, parts)
	produceRange(t, b, topic, parts, 0, 150)
	v := newGroupView(t)
	first := v.kafkaPython(b, "first", topic, "manual", 0)
	v.await("records 0..149", v.readAll(0, 150))
	first.send(t, "commit")
	v.await("the commit", func() bool { return v.commit["first"] != nil })
	for p := range parts {
		if got := v.commit["first"][strconv.Itoa(p)]; got != 50 {
			t.Fatalf("committed offsets %v, want 50 on each partition", v.commit["first"])
		}
	}
	produceRange(t, b, topic, parts, 150, 240)
	v.await("records 150..239", v.readAll(150, 240))
	v.close(first) // no auto commit: 150..239 stay uncommitted
	v.await("first to leave", v.hasExited("first"))

	v.reads = map[string][]event{}
	second := v.kafkaPython(b, "second", topic, "manual", 0)
	v.await("records 150..239 read again", v.readAll(150, 240))
	v.close(second)
	v.await("second to leave", v.hasExited("second"))
	v.exactlyOnce(150, 240)
	firstOffset := map[int32]int64{}
	for _, reads := range v.reads {
		r := reads[0]
		if o, ok := firstOffset[r.P]; !ok || r.O < o {
			firstOffset[r.P] = r.O
		}
	}
	for p := range int32(parts) {
		if firstOffset[p] != 50 {
			t.Errorf("partition %d: second consumer started at offset %d, want the committed 50", p, firstOffset[p])
		}
	}
}

// TestKafkaPythonAutoCommitNoReread: the seed's at-most-once recipe. With
// enable_auto_commit=True and a short auto_commit_interval_ms, a consumer
// killed (-9) after its offsets were auto-committed is replaced by one
// that reads only newer records.
func TestKafkaPythonAutoCommitNoReread(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	const topic, parts = "kp-auto", 3
	createTopic(t, b, topic, parts)
	produceRange(t, b, topic, parts, 0, 150)
	v := newGroupView(t)
	first := v.kafkaPython(b, "first", topic, "auto", 100)
	v.await("records 0..149", v.readAll(0, 150))
	awaitCommitted(t, b, "auto", topic, 150)
	v.kill(first) // no close(): no final commit, no LeaveGroup
	v.await("first to die", v.hasExited("first"))

	v.reads = map[string][]event{}
	second := v.kafkaPython(b, "second", topic, "auto", 100)
	produceRange(t, b, topic, parts, 150, 240)
	v.await("records 150..239", v.readAll(150, 240))
	v.close(second)
	v.await("second to leave", v.hasExited("second"))
	v.exactlyOnce(150, 240)
}

// awaitCommitted polls the group's committed offsets on topic until they
// add up to want: the auto commit has no event to wait on.
func awaitCommitted(t *testing.T, b *broker, group, topic string, want int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awaitTimeout)
	defer cancel()
	adm := newAdmin(t, b)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var sum int64
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			offs.Each(func(o kadm.OffsetResponse) {
				if o.Topic == topic && o.Err == nil {
					sum += o.At
				}
			})
			if sum == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s committed %d on %s (err %v), want %d", group, sum, topic, err, want)
		case <-tick.C:
		}
	}
}
