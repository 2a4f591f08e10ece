package bench

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	engine "github.com/sluice-io/sluice/internal/bench"
	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sluice starts an in-process Sluice node and returns a Config for it.
func sluice(t *testing.T) *clientcmd.Config {
	n := nodetest.Start(t)
	return &clientcmd.Config{Brokers: func() []string { return []string{n.Addr()} }}
}

// runJSON runs `bench args... --json` and decodes the result; it fails the
// test when the command fails.
func runJSON(t *testing.T, cfg *clientcmd.Config, args ...string) engine.Result {
	t.Helper()
	out := clientcmdtest.MustRun(t, cfg, New, "", append(args, "--json", "--progress=false")...)
	var res engine.Result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in %q", out)
	}
	return res
}

// checkIdempotence accepts both a broker with InitProducerId (idempotent
// run) and one without (a note says idempotence was off): never silence.
func checkIdempotence(t *testing.T, res engine.Result) {
	t.Helper()
	noted := strings.Contains(strings.Join(res.Notes, "\n"), "InitProducerId")
	if res.Idempotent == noted {
		t.Errorf("idempotent=%v but InitProducerId note present=%v: %q", res.Idempotent, noted, res.Notes)
	}
}

func TestProduceConsumeE2EAgainstSluice(t *testing.T) {
	cfg := sluice(t)
	p := runJSON(t, cfg, "produce", "-t", "p", "-n", "2000", "-s", "100", "-p", "3", "--producers", "2", "-z", "lz4")
	if p.Mode != engine.ModeProduce || p.Topic != "p" || p.Partitions != 3 || p.Producers != 2 || p.RecordSize != 100 ||
		p.Acks != "all" || p.Compression != "lz4" {
		t.Errorf("produce settings: %+v", p)
	}
	if p.Records != 2000 || p.Sent != 2000 || p.Errors != 0 || p.Bytes != 2000*100 {
		t.Errorf("produce counts: records %d sent %d errors %d bytes %d", p.Records, p.Sent, p.Errors, p.Bytes)
	}
	if p.Seconds <= 0 || p.RecordsPerSec <= 0 || p.MBPerSec <= 0 {
		t.Errorf("produce rates: %+v", p)
	}
	if l := p.Latency; l == nil || l.Count != 2000 || l.P50Ms <= 0 || l.P50Ms > l.P99Ms || l.P99Ms > l.P999Ms || l.P999Ms > l.MaxMs {
		t.Errorf("produce latency: %+v", p.Latency)
	}
	checkIdempotence(t, p)

	c := runJSON(t, cfg, "consume", "-t", "p")
	if c.Mode != engine.ModeConsume || c.Records != 2000 || c.Bytes != 2000*100 || c.Partitions != 3 || c.RecordsPerSec <= 0 {
		t.Errorf("consume: %+v", c)
	}

	e := runJSON(t, cfg, "e2e", "-t", "e", "-n", "2000", "--rate", "4000", "-p", "3", "--acks", "1")
	if e.Mode != engine.ModeE2E || e.Records != 2000 || e.Sent != 2000 || e.Errors != 0 || e.TargetRate != 4000 || e.Idempotent {
		t.Errorf("e2e: %+v", e)
	}
	if i := e.Integrity; i == nil || !i.OK() || i.Expected != 2000 || i.Received != 2000 || i.Foreign != 0 {
		t.Errorf("e2e integrity: %+v", e.Integrity)
	}
	if e.Latency == nil || e.Latency.Count != 2000 || e.AckLatency == nil || e.AckLatency.Count != 2000 {
		t.Errorf("e2e latencies: %+v %+v", e.Latency, e.AckLatency)
	}
	// A second run on the same topic starts at its end: the first run's
	// records are not read again.
	e2 := runJSON(t, cfg, "e2e", "-t", "e", "-n", "500", "--rate", "4000", "--acks", "1")
	if i := e2.Integrity; i == nil || !i.OK() || i.Received != 500 || i.Foreign != 0 || e2.Partitions != 3 {
		t.Errorf("second e2e: partitions %d integrity %+v", e2.Partitions, e2.Integrity)
	}
}

func TestTextOutputAndProgress(t *testing.T) {
	cfg := sluice(t)
	r := clientcmdtest.Run(t, cfg, New, "", "produce", "-n", "300", "--acks", "1")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	for _, s := range []string{"produce: 300 records acknowledged", "acks=1, not idempotent", "send->ack latency ms: p50"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.Stdout)
		}
	}
}

func TestIdempotentAgainstKfake(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t)
	p := runJSON(t, cfg, "produce", "-n", "500", "-p", "2")
	if !p.Idempotent || len(p.Notes) != 0 || p.Records != 500 {
		t.Errorf("kfake serves InitProducerId: want an idempotent run without notes, got %+v", p)
	}
}

func TestConsumeMissingTopicFails(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t)
	r := clientcmdtest.Run(t, cfg, New, "", "consume", "-t", "missing", "--progress=false")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "missing") {
		t.Errorf("consume of a missing topic: err = %v", r.Err)
	}
}
