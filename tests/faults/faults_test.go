package faults

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/tests/brokerproc"
)

var (
	nFaults = flag.Int("faults.n", 0, "faults to inject; 0 is the short form, one of each kind")
	hold    = flag.Duration("faults.hold", 4*time.Second, "how long each fault lasts before it is healed")
	seed    = flag.Uint64("faults.seed", 1, "seed of the order of the faults beyond the first of each kind")
	race    = flag.Bool("faults.race", false, "build sluice with the race detector")
	rate    = flag.Int("faults.rate", 200, "records per second of each producer")
	// The one-way cuts run in `make chaos`, not in the short form, until
	// more long runs are clean: the committed transaction they found
	// partly aborted is fixed (stop 25), the transaction no marker closed
	// (seen once) is not explained (docs/plans/replication.md).
	oneWay = flag.Bool("faults.oneway", false, "inject one-way cuts too (a leader that cannot send, or cannot receive)")
)

var sluiceBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "sluice-faults-")
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

// TestFaults runs the workload on three nodes while the nemesis injects
// faults one after another (each held, healed, then the cluster given
// time to be whole again), then checks the history: nothing acknowledged
// lost, moved or duplicated (idempotent), no offset with two values, no
// aborted record read committed, offsets monotonic per producer and per
// consumer session.
func TestFaults(t *testing.T) {
	c := StartCluster(t, sluiceBin, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Hour)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 3, nil, suiteTopic); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := healthyWithin(ctx, c, time.Minute); err != nil {
		t.Fatal(err)
	}

	w := NewWorkload(suiteTopic, c.Bootstrap(), *rate)
	w.Start()
	defer w.Stop()
	kinds := faults(*hold, *oneWay)
	n := *nFaults
	if n <= 0 {
		n = len(kinds)
	}
	rng := rand.New(rand.NewPCG(*seed, *seed))
	var records []FaultRecord
	for k := range n {
		f := kinds[k%len(kinds)]
		if k >= len(kinds) {
			f = kinds[rng.IntN(len(kinds))]
		}
		rec := FaultRecord{Name: f.Name, Start: time.Now()}
		heal, err := f.Inject(ctx, c)
		if err != nil {
			t.Errorf("fault %d (%s): %v", k+1, f.Name, err)
			break // the history so far is still checked
		}
		heal()
		rec.Healed = time.Now()
		rec.RecoveryErr = healthyWithin(ctx, c, 2*time.Minute)
		rec.Recovered = time.Now()
		records = append(records, rec)
		if rec.RecoveryErr != nil {
			t.Errorf("fault %d (%s): the cluster did not recover: %v", k+1, f.Name, rec.RecoveryErr)
			break
		}
	}
	w.StopProducers(2 * time.Minute)
	w.Stop()

	h := w.History()
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
	var trace Trace
	h.Final, h.FinalCommitted, trace, err = ReadAll(rctx, c.Bootstrap(), suiteTopic)
	rcancel()
	if err != nil {
		c.SaveLogs()
		t.Fatalf("final read: %v\n%s", err, Diagnose(ctx, c.Bootstrap(), suiteTopic))
	}
	rep := Check(h)
	acks := w.AckTimes()
	t.Logf("%d faults injected; %s", len(records), summary(rep))
	var worst time.Duration
	for i := range records {
		r := &records[i]
		r.Unavailable = unavailable(acks, r.Start, r.Recovered)
		worst = max(worst, r.Unavailable)
		t.Logf("fault %3d %-34s held %5.1fs, whole again %5.1fs after, idempotent producer waited at most %5.1fs",
			i+1, r.Name, r.Healed.Sub(r.Start).Seconds(), r.Recovered.Sub(r.Healed).Seconds(), r.Unavailable.Seconds())
	}
	t.Logf("longest wait for an acknowledgement during a fault: %v", worst.Round(time.Millisecond))
	if !rep.OK() {
		t.Errorf("the checker found failures:\n%s\nclient errors:\n%s", rep, strings.Join(w.Errors(), "\n"))
		for _, at := range rep.MissingAt {
			t.Logf("transactional records around the missing committed record at %d/%d:\n%s", at[0], at[1], trace.Around(int32(at[0]), at[1], 12))
		}
		c.SaveLogs()
	}
	if rep.Acked == 0 {
		t.Error("nothing was acknowledged")
	}
}

func healthyWithin(ctx context.Context, c *Cluster, d time.Duration) error {
	hctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return c.Healthy(hctx, suiteTopic)
}

func summary(r Report) string {
	return fmt.Sprintf("%d records sent, %d acknowledged; lost %d, moved %d, duplicated %d (idempotent; %d at-least-once), "+
		"inconsistent %d, non-monotonic sends %d, polls %d, aborted reads %d, committed missing %d; unacknowledged %d (%d present), unseen %d",
		r.Sent, r.Acked, r.Lost, r.Moved, r.Duplicated, r.DuplicatedAtLeastOnce, r.Inconsistent, r.NonMonotonicSend,
		r.NonMonotonicPoll, r.AbortedReads, r.CommittedMissing, r.Unacked, r.UnackedPresent, r.Unseen)
}
