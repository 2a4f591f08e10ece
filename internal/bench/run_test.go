package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSpec is a spec against a fresh in-process kfake cluster.
func fakeSpec(t *testing.T, mode Mode, opts ...kfake.Opt) Spec {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	return Spec{Mode: mode, Topic: "t", Partitions: 2, RecordSize: 64, Acks: AcksAll, Idempotent: true,
		NewClient: func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
			return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
		}}
}

func mustRun(t *testing.T, s Spec) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := Run(ctx, s)
	if err != nil {
		t.Fatalf("Run(%s): %v", s.Mode, err)
	}
	return res
}

func TestRunProduceThenConsume(t *testing.T) {
	s := fakeSpec(t, ModeProduce)
	s.Records, s.Producers = 1000, 3
	p := mustRun(t, s)
	if p.Records != 1000 || p.Sent != 1000 || p.Bytes != 64000 || !p.Idempotent || p.Latency.Count != 1000 || len(p.Notes) != 0 {
		t.Errorf("produce: %+v", p)
	}
	s.Mode, s.Records = ModeConsume, 0
	c := mustRun(t, s)
	if c.Records != 1000 || c.Bytes != 64000 || c.Partitions != 2 {
		t.Errorf("consume: %+v", c)
	}
	// The fetches that carried 64,000 value bytes weigh more than that,
	// and the client used some CPU to read them.
	if c.FetchResponses < 1 || c.FetchBytes <= c.Bytes || c.ClientCPUSeconds <= 0 || c.KiBPerFetch() <= 0 {
		t.Errorf("consume: %d fetch responses of %d bytes, client CPU %v s", c.FetchResponses, c.FetchBytes, c.ClientCPUSeconds)
	}
	s.Records = 400 // fewer than the topic holds
	if c := mustRun(t, s); c.Records != 400 {
		t.Errorf("consume --records 400 read %d", c.Records)
	}
}

func TestRunE2EDurationAndRate(t *testing.T) {
	s := fakeSpec(t, ModeE2E)
	s.Duration, s.Rate = 300*time.Millisecond, 2000
	e := mustRun(t, s)
	// 600 records are due in 300 ms; a loaded machine may send fewer, the
	// pacer must never send (many) more.
	if e.Integrity == nil || !e.Integrity.OK() || e.Integrity.Received != e.Sent || e.Sent == 0 || e.Sent > 700 {
		t.Errorf("e2e at 2000/s for 300ms: sent %d, integrity %+v", e.Sent, e.Integrity)
	}
	if e.FetchResponses < 1 || e.ClientCPUSeconds <= 0 {
		t.Errorf("e2e: %d fetch responses, client CPU %v s", e.FetchResponses, e.ClientCPUSeconds)
	}
}

func TestRunConsumeEmptyTopic(t *testing.T) {
	s := fakeSpec(t, ModeConsume, kfake.SeedTopics(1, "t"))
	if _, err := Run(context.Background(), s); !errors.Is(err, ErrNoRecords) {
		t.Errorf("err = %v, want ErrNoRecords", err)
	}
}

func TestRunInvalidSpec(t *testing.T) {
	s := fakeSpec(t, ModeProduce)
	s.Acks, s.Records = AcksLeader, 1 // idempotent with acks=1
	if _, err := Run(context.Background(), s); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("err = %v, want ErrInvalidSpec", err)
	}
}

func TestRunInterrupted(t *testing.T) {
	s := fakeSpec(t, ModeProduce)
	s.Duration, s.Rate = time.Hour, 1000
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	res, _ := Run(ctx, s)
	if res == nil || res.Records == 0 || len(res.Notes) == 0 {
		t.Fatalf("interrupted run: %+v", res)
	}
}
