package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestClusterKill9LeaderKcatIdempotent: kcat (librdkafka), bootstrapped to
// broker 1 only, produces 100,000 records idempotently with acks=all to a
// partition led by broker 2, which is killed with SIGKILL once 20,000 are
// stored. kcat delivers every record (it exits 0 only when each was
// acknowledged), and the partition holds each exactly once, in order.
func TestClusterKill9LeaderKcatIdempotent(t *testing.T) {
	t.Parallel()
	bs := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs[0].Addr, bs[2].Addr), kgo.ConsumeTopics("kk"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssigned(ctx, t, cl, "kk", 2, 3, 1)
	const count = 100_000
	var in strings.Builder
	for i := range count {
		fmt.Fprintf(&in, "%d\n", i)
	}
	cmd := exec.CommandContext(ctx, "kcat", "-b", bs[0].Addr, "-P", "-t", "kk", "-p", "0",
		"-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	adm := kadm.NewClient(cl)
	killed := false
	for !killed {
		select {
		case err := <-done:
			t.Fatalf("kcat finished (%v) before the leader was killed:\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatal("the partition never reached 20,000 records")
		case <-time.After(20 * time.Millisecond): // polling the log end: no event to wait on
		}
		ends, err := adm.ListEndOffsets(ctx, "kk")
		if o, ok := ends.Lookup("kk", 0); err == nil && ok && o.Offset >= 20_000 {
			bs[1].Kill9()
			killed = true
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr.String())
	}
	readSequence(ctx, t, cl, count)
}
