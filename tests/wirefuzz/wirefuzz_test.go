package wirefuzz

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/tests/brokerproc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	duration   = flag.Duration("wirefuzz.duration", 15*time.Second, "how long to send mutated requests")
	seedFlag   = flag.Uint64("wirefuzz.seed", 0, "seed of the workers' choices (0: from the clock)")
	workers    = flag.Int("wirefuzz.workers", 4, "connections sending at once")
	maxRSSMiB  = flag.Int64("wirefuzz.maxrss", 1024, "largest resident set the broker may reach, MiB")
	partitions = flag.Int64("wirefuzz.partitions", 1000, "partitions the fuzzer may make the broker hold in all")
	outDir     = flag.String("wirefuzz.out", "", "where reproducers go when a check fails (default: a temp dir)")
	replayDir  = flag.String("wirefuzz.replay", "", "send the frames of a reproducer directory instead of fuzzing")
	race       = flag.Bool("wirefuzz.race", false, "build the broker with the race detector")
	binFlag    = flag.String("wirefuzz.bin", "", "a sluice binary to fuzz instead of building ./cmd/sluice")
)

var sluiceBin string

// broker is the sluice serve child process under fuzzing.
type broker = brokerproc.Broker

// startBroker starts sluice with key=value settings on loopback.
func startBroker(t testing.TB, settings ...string) *broker {
	t.Helper()
	return brokerproc.Start(t, sluiceBin, brokerproc.Options{Settings: settings})
}

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run()) // listing tests (scripts/fuzz.sh): nothing to build
	}
	if *binFlag != "" {
		sluiceBin = *binFlag
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sluice-wirefuzz-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if sluiceBin, err = brokerproc.Build("../..", dir, *race); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// checkTopics never appear in a request the fuzzer sends.
var checkTopics = []string{"wirefuzz-check-0", "wirefuzz-check-1", "wirefuzz-check-2"}

// acked is one record the broker acknowledged with acks=all.
type acked struct {
	topic     string
	partition int32
	offset    int64
	key, val  []byte
}

// TestWireFuzz is the wire fuzzer (doc.go).
func TestWireFuzz(t *testing.T) {
	if *replayDir != "" {
		t.Skip("replaying: see TestWireFuzzReplay")
	}
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-wirefuzz.seed=%d to choose the same requests), %s, %d workers", seed, seed, *duration, *workers)
	b := startBroker(t, "auto.create.topics.enable=false")
	ctx, cancel := context.WithTimeout(context.Background(), *duration+5*time.Minute)
	defer cancel()
	cl := client(t, b)
	adm := kadm.NewClient(cl)
	want := writeCheckRecords(ctx, t, cl, adm)
	w, g := setUp(ctx, t, adm, b)
	g.names = nil
	for _, n := range checkTopics {
		g.names = append(g.names, []byte(n))
	}

	st := &stats{byKey: map[int16]int64{}, byKind: map[string]int64{}}
	fuzzCtx, stop := context.WithTimeout(ctx, *duration)
	defer stop()
	start := time.Now()
	go func() { // a dead broker ends the run: the checks say why
		select {
		case <-b.Exited():
			t.Logf("the broker died %s into the run", time.Since(start).Round(time.Second))
			stop()
		case <-fuzzCtx.Done():
		}
	}()
	go monitor(fuzzCtx, adm, w, g, func() { t.Logf("broker RSS %d MiB, %d partitions", b.CurRSS()>>20, g.partitions.Load()) })
	var wg sync.WaitGroup
	ws := make([]*worker, *workers)
	for i := range ws {
		ws[i] = &worker{addr: b.Addr, g: newGen(seed+uint64(i), w), guard: g, st: st, last: ring{frames: make([][]byte, 0, 256)}}
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].run(fuzzCtx) }()
	}
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	<-fuzzCtx.Done()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		t.Logf("workers still running 10s after the end; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		<-stopped
	}
	elapsed := time.Since(start)
	t.Logf("sent %d requests in %s (%.0f/s), %d dropped by the guard, %d answers; the broker closed %d connections, %d writes timed out",
		st.sent.Load(), elapsed.Round(time.Second), float64(st.sent.Load())/elapsed.Seconds(), st.dropped.Load(), st.answers.Load(), st.closed.Load(), st.timeouts.Load())
	t.Logf("by mutation: %v", st.byKind)
	t.Logf("by API: %s", byAPI(st.byKey))

	failed := !finalChecks(ctx, t, b, want, "after fuzzing")
	t.Logf("broker max RSS %d MiB (limit %d MiB)", b.MaxRSS()>>20, *maxRSSMiB)
	if b.MaxRSS() > *maxRSSMiB<<20 {
		t.Errorf("broker RSS reached %d MiB, limit %d MiB", b.MaxRSS()>>20, *maxRSSMiB)
		failed = true
	}
	if failed || t.Failed() {
		saveReproducer(t, ws, seed)
	}
}

// client is a franz-go client for b.
func client(t *testing.T, b *broker) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.RequestRetries(20), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// writeCheckRecords creates the check topics and produces records to them
// with acks=all, plain and compressed, and returns what was acknowledged.
func writeCheckRecords(ctx context.Context, t *testing.T, cl *kgo.Client, adm *kadm.Client) []acked {
	t.Helper()
	if _, err := adm.CreateTopics(ctx, 3, 1, nil, checkTopics...); err != nil {
		t.Fatalf("create check topics: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	var want []acked
	var mu sync.Mutex
	for i, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.ZstdCompression(), kgo.SnappyCompression()} {
		p, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ProducerBatchCompression(codec),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for _, topic := range checkTopics {
			for j := 0; j < 100; j++ {
				v := make([]byte, r.IntN(2000))
				for k := range v {
					v[k] = byte(r.IntN(256))
				}
				recs = append(recs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "%s/%d/%d", topic, i, j), Value: v})
			}
		}
		for _, res := range p.ProduceSync(ctx, recs...) {
			if res.Err != nil {
				t.Fatalf("produce check record: %v", res.Err)
			}
			mu.Lock()
			want = append(want, acked{res.Record.Topic, res.Record.Partition, res.Record.Offset, res.Record.Key, res.Record.Value})
			mu.Unlock()
		}
		p.Close()
	}
	return want
}

// setUp creates the fuzzer's own topics and learns the APIs the broker
// advertises and the check topics' ids.
func setUp(ctx context.Context, t *testing.T, adm *kadm.Client, b *broker) (*world, *guard) {
	t.Helper()
	w := &world{topics: []string{"fz-0", "fz-1", "fz-2", "fz-3"}, groups: []string{"fzg-0", "fzg-1", "fzg-2"}, txns: []string{"fzt-0", "fzt-1", "fzt-2"}}
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, w.topics...); err != nil {
		t.Fatalf("create fuzz topics: %v", err)
	}
	// The coordinators' topics exist before the first mutated request, as
	// they soon do while fuzzing: a replayed frame meets loaded shards.
	for _, rs := range []kadm.FindCoordinatorResponses{adm.FindGroupCoordinators(ctx, w.groups...), adm.FindTxnCoordinators(ctx, w.txns...)} {
		if err := rs.Error(); err != nil {
			t.Fatalf("find coordinators: %v", err)
		}
	}
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatalf("api versions: %v", err)
	}
	for _, bv := range vs {
		for _, k := range bv.Raw().ApiKeys {
			if kmsg.RequestForKey(k.ApiKey) != nil {
				w.apis = append(w.apis, api{k.ApiKey, k.MinVersion, k.MaxVersion})
			}
		}
	}
	t.Logf("the broker advertises %d APIs", len(w.apis))
	g := &guard{limit: *partitions}
	md, err := adm.Metadata(ctx)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	for _, ct := range checkTopics {
		g.ids = append(g.ids, md.Topics[ct].ID)
	}
	var idsMu sync.Mutex
	ids := fuzzIDs(md, w)
	w.ids = func() [][16]byte { idsMu.Lock(); defer idsMu.Unlock(); return ids }
	w.setIDs = func(n [][16]byte) { idsMu.Lock(); ids = n; idsMu.Unlock() }
	g.partitions.Store(int64(countPartitions(md)))
	return w, g
}

func fuzzIDs(md kadm.Metadata, w *world) [][16]byte {
	var ids [][16]byte
	for name, td := range md.Topics {
		if strings.HasPrefix(name, "fz") {
			ids = append(ids, td.ID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	return ids
}

func countPartitions(md kadm.Metadata) int {
	n := 0
	for _, td := range md.Topics {
		n += len(td.Partitions)
	}
	return n
}

// monitor refreshes the fuzz topics' ids and the broker's partition count
// while the fuzzers run.
func monitor(ctx context.Context, adm *kadm.Client, w *world, g *guard, report func()) {
	next := time.Now().Add(time.Minute)
	for {
		if time.Now().After(next) {
			report()
			next = next.Add(time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		md, err := adm.Metadata(mctx)
		cancel()
		if err == nil {
			w.setIDs(fuzzIDs(md, w))
			g.partitions.Store(int64(countPartitions(md)))
		}
	}
}

// finalChecks verifies b, stops it (a clean exit is required), starts it
// again over the same data and verifies it again.
func finalChecks(ctx context.Context, t *testing.T, b *broker, want []acked, when string) bool {
	if !verify(ctx, t, b, want, when) {
		return false
	}
	err := b.Stop()
	if err == nil {
		err = b.ExitErr() // a clean exit is required
	}
	if err != nil {
		t.Errorf("clean stop %s: %v\n%s", when, err, b.Tail(8192))
		return false
	}
	b.Restart()
	return verify(ctx, t, b, want, when+" and a restart")
}

// verify checks that b serves: it is alive, its log holds no panic, it
// answers ApiVersions and Metadata, and every acknowledged check record
// reads back unchanged, with nothing else in the check topics.
func verify(ctx context.Context, t *testing.T, b *broker, want []acked, when string) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf(when+": "+format, args...)
		ok = false
	}
	if !b.Alive() {
		fail("the broker died (%v):\n%s", b.ExitErr(), b.Tail(16384))
		return false
	}
	if p := b.Panics(); p != "" {
		fail("the broker logged a panic:\n%s", p)
	}
	cl := client(t, b)
	adm := kadm.NewClient(cl)
	vctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := adm.ApiVersions(vctx); err != nil {
		fail("ApiVersions: %v", err)
		return false
	}
	if _, err := adm.Metadata(vctx, checkTopics...); err != nil {
		fail("Metadata: %v", err)
		return false
	}
	// An admin write goes through the metadata quorum: it must still work.
	probe := fmt.Sprintf("wirefuzz-probe-%d", time.Now().UnixNano())
	if res, err := adm.CreateTopic(vctx, 1, 1, nil, probe); err != nil || res.Err != nil {
		fail("CreateTopics %s: %v %v", probe, err, res.Err)
	}
	ends, err := adm.ListEndOffsets(vctx, checkTopics...)
	if err != nil {
		fail("ListEndOffsets: %v", err)
		return false
	}
	byPart := map[string]map[int32][]acked{}
	for _, a := range want {
		if byPart[a.topic] == nil {
			byPart[a.topic] = map[int32][]acked{}
		}
		byPart[a.topic][a.partition] = append(byPart[a.topic][a.partition], a)
	}
	consume := map[string]map[int32]kgo.Offset{}
	for topic, ps := range byPart {
		consume[topic] = map[int32]kgo.Offset{}
		for p, recs := range ps {
			slices.SortFunc(recs, func(a, b acked) int { return int(a.offset - b.offset) })
			end, _ := ends.Lookup(topic, p)
			if end.Offset != int64(len(recs)) || recs[len(recs)-1].offset != end.Offset-1 {
				fail("%s-%d: end offset %d (%v), %d records acknowledged up to %d", topic, p, end.Offset, end.Err, len(recs), recs[len(recs)-1].offset)
			}
			consume[topic][p] = kgo.NewOffset().AtStart()
		}
	}
	if !ok {
		return false
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumePartitions(consume), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]map[int32]map[int64]*kgo.Record{}
	n := 0
	for n < len(want) && vctx.Err() == nil {
		fs := rd.PollFetches(vctx)
		for _, e := range fs.Errors() {
			if e.Err != context.DeadlineExceeded {
				fail("fetch %s-%d: %v", e.Topic, e.Partition, e.Err)
				return false
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if got[r.Topic] == nil {
				got[r.Topic] = map[int32]map[int64]*kgo.Record{}
			}
			if got[r.Topic][r.Partition] == nil {
				got[r.Topic][r.Partition] = map[int64]*kgo.Record{}
			}
			got[r.Topic][r.Partition][r.Offset] = r
			n++
		})
	}
	lost := 0
	for _, a := range want {
		r := got[a.topic][a.partition][a.offset]
		if r == nil || !bytes.Equal(r.Key, a.key) || !bytes.Equal(r.Value, a.val) {
			if lost < 10 {
				fail("%s-%d offset %d: acknowledged record %q not read back (got %v)", a.topic, a.partition, a.offset, a.key, r != nil)
			}
			lost++
		}
	}
	if lost > 0 {
		fail("%d of %d acknowledged records lost or changed", lost, len(want))
	}
	if n != len(want) {
		fail("read %d records from the check topics, %d were acknowledged", n, len(want))
	}
	if ok {
		t.Logf("%s: the broker serves, all %d acknowledged records read back unchanged", when, len(want))
	}
	return ok
}

// saveReproducer writes each worker's last frames to a directory that
// -wirefuzz.replay sends again.
func saveReproducer(t *testing.T, ws []*worker, seed uint64) {
	dir := *outDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wirefuzz-repro-"); err != nil {
			t.Log(err)
			return
		}
	}
	for i, w := range ws {
		for j, f := range w.last.ordered() {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%d-%04d.bin", i, j)), f, 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, "seed"), fmt.Appendf(nil, "%d\n", seed), 0o644)
	t.Logf("reproducer: the last frames of each worker are in %s; replay with -wirefuzz.replay=%s (seed %d)", dir, dir, seed)
}

// TestWireFuzzReplay sends the frames of a reproducer directory, worker
// by worker in order, each on a connection of its own, stops at the first
// that kills the broker (naming it), then runs the same checks as
// TestWireFuzz.
func TestWireFuzzReplay(t *testing.T) {
	if *replayDir == "" {
		t.Skip("no -wirefuzz.replay directory")
	}
	replay(t, filepath.Join(*replayDir, "w*.bin"))
}

// TestWireFuzzRegressions replays the frames in testdata/regress: each
// once killed the broker (its name says how).
func TestWireFuzzRegressions(t *testing.T) {
	if *replayDir != "" {
		t.Skip("replaying -wirefuzz.replay")
	}
	replay(t, filepath.Join("testdata", "regress", "*.bin"))
}

func replay(t *testing.T, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no frames match %s: %v", pattern, err)
	}
	sort.Strings(files)
	b := startBroker(t, "auto.create.topics.enable=false")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl := client(t, b)
	adm := kadm.NewClient(cl)
	want := writeCheckRecords(ctx, t, cl, adm)
	setUp(ctx, t, adm, b)
	// One connection per frame, and a moment for its answer (or the close
	// of the connection): a frame never disappears into a connection the
	// broker already closed because of the one before.
	prev := "the first frame"
	for _, name := range files {
		f, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", b.Addr)
		if err != nil || !b.Alive() {
			t.Errorf("the broker stopped serving after %s: %v", prev, err)
			break
		}
		c.SetDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Write(f); err == nil {
			c.Read(make([]byte, 1))
		}
		c.Close()
		prev = filepath.Base(name)
	}
	finalChecks(ctx, t, b, want, "after the replay")
}

func byAPI(m map[int16]int64) string {
	keys := make([]int16, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s %d, ", kmsg.NameForKey(k), m[k])
	}
	return strings.TrimSuffix(sb.String(), ", ")
}
