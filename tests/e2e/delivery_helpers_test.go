package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout bounds each delivery-guarantee test's waits.
const deliveryTimeout = 3 * time.Minute

// sentinel is the value the delivery tests write last to every partition
// so that a reader knows it has read everything before it.
const sentinel = "~end"

// pyScript is a running testdata python script whose stdout lines the
// test reads one at a time. Not safe for concurrent use.
type pyScript struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string   // closed when stdout ends
	done  chan struct{} // closed after the process exited
	err   error         // the exit error, set before done closes

	errMu  sync.Mutex
	stderr strings.Builder
}

// startScript runs /usr/bin/python3 -u testdata/name args..., killed after
// timeout and when the test ends.
func startScript(t *testing.T, timeout time.Duration, name string, args ...string) *pyScript {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	s := &pyScript{t: t, name: name, lines: make(chan string, 1024), done: make(chan struct{}),
		cmd: exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"-u", "testdata/" + name}, args...)...)}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.errMu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.errMu.Unlock()
		}
	}()
	go func() {
		wg.Wait()
		s.err = s.cmd.Wait()
		cancel()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// Stderr returns what the script printed on stderr so far.
func (s *pyScript) Stderr() string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.stderr.String()
}

// next decodes the script's next stdout line into v; false at the end of
// its output. A line that is not JSON fails the test.
func (s *pyScript) next(v any) bool {
	s.t.Helper()
	line, ok := <-s.lines
	if !ok {
		return false
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		s.t.Fatalf("%s printed %q: %v\nstderr:\n%s", s.name, line, err, s.Stderr())
	}
	return true
}

// wait waits for the script to exit and fails the test unless it exited
// with status 0.
func (s *pyScript) wait() {
	s.t.Helper()
	for range s.lines { // unread output must not block the script
	}
	<-s.done
	if s.err != nil {
		s.t.Fatalf("%s: %v\nstderr:\n%s", s.name, s.err, s.Stderr())
	}
}

// runScript runs testdata/name to the end and decodes its single JSON
// output line into v.
func runScript(t *testing.T, name string, v any, args ...string) {
	t.Helper()
	out := run(t, deliveryTimeout, nil, "/usr/bin/python3", append([]string{"testdata/" + name}, args...)...)
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), v); err != nil {
		t.Fatalf("%s printed %q: %v", name, out, err)
	}
}

// makeTopic creates topic with partitions partitions and replication
// factor 1.
func makeTopic(t *testing.T, b *broker, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := newAdmin(t, b).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// readToSentinels writes the sentinel to every partition of topic (as a
// plain producer, acks=all), then reads the topic from the start at the
// isolation level until each partition's sentinel, and returns the values
// read before it, by partition, in offset order.
func readToSentinels(t *testing.T, b *broker, topic string, partitions int32, level kgo.IsolationLevel) map[int32][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range partitions {
		if err := prod.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(sentinel)}).FirstErr(); err != nil {
			t.Fatalf("produce the sentinel to %s/%d: %v", topic, p, err)
		}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := map[int32][]string{}
	ended := map[int32]bool{}
	for int32(len(ended)) < partitions {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d partitions reached their sentinel before the deadline", topic, len(ended), partitions)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("read %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == sentinel {
				ended[r.Partition] = true
			} else if !ended[r.Partition] {
				got[r.Partition] = append(got[r.Partition], string(r.Value))
			}
		})
	}
	return got
}

// countValues counts how often each value occurs across partitions.
func countValues(byPartition map[int32][]string) map[string]int {
	n := map[string]int{}
	for _, vs := range byPartition {
		for _, v := range vs {
			n[v]++
		}
	}
	return n
}

// awaitStable polls ListOffsets until the last stable offset (isolation
// read_committed) equals the high watermark on every partition of topic:
// no transaction is open there any more.
func awaitStable(t *testing.T, b *broker, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	adm := newAdmin(t, b)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ends, err1 := adm.ListEndOffsets(ctx, topic)
		stable, err2 := adm.ListCommittedOffsets(ctx, topic)
		if err := errors.Join(err1, err2, ends.Error(), stable.Error()); err != nil {
			last = err.Error()
		} else {
			same := true
			ends.Each(func(o kadm.ListedOffset) {
				s, _ := stable.Lookup(topic, o.Partition)
				same = same && s.Offset == o.Offset
			})
			if same {
				return
			}
			last = fmt.Sprintf("high watermarks %v, last stable offsets %v", offsetsOf(ends), offsetsOf(stable))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never became stable: %s", topic, last)
		case <-tick.C:
		}
	}
}

func offsetsOf(l kadm.ListedOffsets) map[int32]int64 {
	m := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
	return m
}

// valueRange returns the decimal strings prefix+lo .. prefix+(hi-1).
func valueRange(prefix string, lo, hi int) []string {
	vs := make([]string, 0, hi-lo)
	for i := lo; i < hi; i++ {
		vs = append(vs, prefix+strconv.Itoa(i))
	}
	return vs
}

// exactlyOnceDiff compares counts with want (each wanted once, nothing
// else) and describes the first limit differences.
func exactlyOnceDiff(counts map[string]int, want []string, limit int) []string {
	var diffs []string
	wanted := make(map[string]bool, len(want))
	add := func(format string, args ...any) {
		if len(diffs) < limit {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	for _, v := range want {
		wanted[v] = true
		if c := counts[v]; c != 1 {
			add("%q read %d times", v, c)
		}
	}
	for v, c := range counts {
		if !wanted[v] {
			add("%q (not expected) read %d times", v, c)
		}
	}
	return diffs
}

// sumOffsets adds up listed offsets over partitions.
func sumOffsets(l kadm.ListedOffsets) int64 {
	var n int64
	l.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// produceValues writes values to topic as a plain producer (acks=all),
// value i to partition i % partitions, and waits for the acks.
func produceValues(t *testing.T, b *broker, topic string, partitions int32, values []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Partition: int32(i) % partitions, Value: []byte(v)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}
