package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// groupSettings make a broker's first rebalance of a group start at once
// (Kafka waits 3 s by default for more members), which keeps the group
// tests fast; every other group setting is Kafka's default.
var groupSettings = []string{"group.initial.rebalance.delay.ms=0"}

// awaitTimeout bounds every wait for what group consumers report.
const awaitTimeout = 90 * time.Second

// event is what a group consumer process reported, tagged with its name.
type event struct {
	From       string           `json:"-"`
	Ev         string           `json:"ev"` // assigned, revoked, rec, committed, closed; exit when its output ended
	Partitions []int32          `json:"partitions"`
	P          int32            `json:"p"`
	O          int64            `json:"o"`
	V          string           `json:"v"`
	Offsets    map[string]int64 `json:"offsets"`
}

// proc is a consumer process: each line it prints is parsed into events.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	stderr strings.Builder
}

// lineParser turns one output line (from stderr when errOut) into events.
type lineParser func(line string, errOut bool) []event

// startProc starts argv, sends its events to events, and kills it when the
// test ends. After both outputs end and it exited, it sends an "exit"
// event.
func startProc(t *testing.T, events chan<- event, name string, parse lineParser, argv ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(argv[0], argv[1:]...)}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	var wg sync.WaitGroup
	scan := func(r io.Reader, errOut bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if errOut {
				p.mu.Lock()
				p.stderr.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
			}
			for _, e := range parse(sc.Text(), errOut) {
				e.From = name
				events <- e
			}
		}
	}
	wg.Add(2)
	go scan(stdout, false)
	go scan(stderr, true)
	go func() {
		wg.Wait()
		p.cmd.Wait()
		events <- event{From: name, Ev: "exit"}
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// send writes a command line to the process's stdin.
func (p *proc) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		t.Fatalf("send %q to %s: %v", cmd, p.name, err)
	}
}

// Stderr returns what the process printed on stderr so far.
func (p *proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// parseJSONLines reads the JSON events of the python consumer scripts.
func parseJSONLines(line string, errOut bool) []event {
	var e event
	if errOut || json.Unmarshal([]byte(line), &e) != nil {
		return nil
	}
	return []event{e}
}

// kafkaPython starts testdata/kp_group_consumer.py as name in group on
// topic; autoCommitMs 0 is enable_auto_commit=False.
func (v *groupView) kafkaPython(b *broker, name, topic, group string, autoCommitMs int) *proc {
	v.t.Helper()
	p := startProc(v.t, v.events, name, parseJSONLines, "/usr/bin/python3", "-u", "testdata/kp_group_consumer.py",
		b.Addr, topic, group, name, strconv.Itoa(autoCommitMs))
	v.procs = append(v.procs, p)
	return p
}

// groupView is what the tests know about a group from its consumers'
// events: who owns which partition, who read which record. Not safe for
// concurrent use.
type groupView struct {
	t      *testing.T
	events chan event
	procs  []*proc
	owned  map[string]map[int32]bool
	reads  map[string][]event // record value -> every read of it
	commit map[string]map[string]int64
	exited map[string]bool
	ending map[string]bool // told to close, or killed
	died   string          // a process that exited unasked
}

func newGroupView(t *testing.T) *groupView {
	return &groupView{t: t, events: make(chan event, 4096), owned: map[string]map[int32]bool{},
		reads: map[string][]event{}, commit: map[string]map[string]int64{}, exited: map[string]bool{}, ending: map[string]bool{}}
}

func (v *groupView) apply(e event) {
	switch e.Ev {
	case "assigned":
		if v.owned[e.From] == nil {
			v.owned[e.From] = map[int32]bool{}
		}
		for _, p := range e.Partitions {
			v.owned[e.From][p] = true
		}
	case "revoked":
		for _, p := range e.Partitions {
			delete(v.owned[e.From], p)
		}
	case "rec":
		v.reads[e.V] = append(v.reads[e.V], e)
	case "committed":
		v.commit[e.From] = e.Offsets
	case "exit":
		v.exited[e.From] = true
		delete(v.owned, e.From)
		if !v.ending[e.From] && v.died == "" {
			v.died = e.From
		}
	}
}

// await applies events until cond holds; it fails the test after
// awaitTimeout with what it waited for.
func (v *groupView) await(what string, cond func() bool) {
	v.t.Helper()
	timer := time.NewTimer(awaitTimeout)
	defer timer.Stop()
	for !cond() {
		if v.died != "" {
			v.t.Fatalf("%s exited while waiting for %s\n%s", v.died, what, v.summary())
		}
		select {
		case e := <-v.events:
			v.apply(e)
		case <-timer.C:
			v.t.Fatalf("timed out waiting for %s\n%s", what, v.summary())
		}
	}
}

func (v *groupView) summary() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(v.owned)) {
		fmt.Fprintf(&b, "%s owns %v\n", name, slices.Sorted(maps.Keys(v.owned[name])))
	}
	fmt.Fprintf(&b, "%d distinct records read\n", len(v.reads))
	for _, p := range v.procs {
		fmt.Fprintf(&b, "--- %s stderr:\n%s", p.name, p.Stderr())
	}
	return b.String()
}

// close tells p to close its consumer and exit.
func (v *groupView) close(p *proc) {
	v.t.Helper()
	v.ending[p.name] = true
	p.send(v.t, "close")
}

// kill ends p with SIGKILL.
func (v *groupView) kill(p *proc) {
	v.ending[p.name] = true
	p.cmd.Process.Kill()
}

// balanced reports whether names own each partitions each, together all
// of 0..total-1, none twice.
func (v *groupView) balanced(total, each int, names ...string) func() bool {
	return func() bool {
		union := map[int32]bool{}
		for _, n := range names {
			if len(v.owned[n]) != each {
				return false
			}
			maps.Copy(union, v.owned[n])
		}
		return len(union) == total
	}
}

// readAll reports whether every value in [lo, hi) was read.
func (v *groupView) readAll(lo, hi int) func() bool {
	return func() bool {
		for i := lo; i < hi; i++ {
			if len(v.reads[strconv.Itoa(i)]) == 0 {
				return false
			}
		}
		return true
	}
}

// hasExited reports whether every named process ended its output.
func (v *groupView) hasExited(names ...string) func() bool {
	return func() bool {
		for _, n := range names {
			if !v.exited[n] {
				return false
			}
		}
		return true
	}
}

// exactlyOnce fails the test unless every value in [lo, hi) was read
// exactly once and nothing else was read.
func (v *groupView) exactlyOnce(lo, hi int) {
	v.t.Helper()
	var twice, missing []string
	for i := lo; i < hi; i++ {
		switch reads := v.reads[strconv.Itoa(i)]; len(reads) {
		case 0:
			missing = append(missing, strconv.Itoa(i))
		case 1:
		default:
			twice = append(twice, fmt.Sprintf("%d (%d times: %+v)", i, len(reads), reads))
		}
	}
	if len(v.reads) != hi-lo {
		v.t.Errorf("%d distinct records read, want %d", len(v.reads), hi-lo)
	}
	if len(twice) > 0 || len(missing) > 0 {
		v.t.Fatalf("records read twice: %d %.10q; missing: %d %.10q\n%s", len(twice), twice, len(missing), missing, v.summary())
	}
}

// createTopic creates topic with partitions partitions.
func createTopic(t *testing.T, b *broker, topic string, partitions int32) {
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

// produceRange writes the values lo..hi-1 (as decimal strings) to topic,
// value i to partition i % partitions, and waits for the acks.
func produceRange(t *testing.T, b *broker, topic string, partitions, lo, hi int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // Debian's kafka-python has no snappy
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, 0, hi-lo)
	for i := lo; i < hi; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(i % partitions), Value: []byte(strconv.Itoa(i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d..%d to %s: %v", lo, hi, topic, err)
	}
}
