package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/tests/brokerproc"
)

var sluiceBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if sluiceBin, err = brokerproc.Build("../..", dir, true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// broker is a running sluice serve process (tests/brokerproc).
type broker struct {
	*brokerproc.Broker
	t testing.TB
}

// startBroker starts sluice serve with extra key=value settings, waits
// until it accepts Kafka connections, and stops it when the test ends.
func startBroker(t testing.TB, settings ...string) *broker {
	t.Helper()
	return startBrokerUnder(t, nil, settings...)
}

// startBrokerUnder is startBroker with sluice run by the command line
// wrap (each start and restart).
func startBrokerUnder(t testing.TB, wrap []string, settings ...string) *broker {
	t.Helper()
	return &broker{brokerproc.Start(t, sluiceBin, brokerproc.Options{Settings: settings, Wrap: wrap, StartTimeout: 20 * time.Second}), t}
}

// stop sends SIGTERM and waits for a clean exit.
func (b *broker) stop() {
	if err := b.Stop(); err != nil {
		b.t.Errorf("%v:\n%s", err, b.Log())
	}
}

// kill9 kills the broker without warning.
func (b *broker) kill9() { b.Kill9() }

// restart starts the broker again over the same data dir and port.
func (b *broker) restart() { b.Restart() }

// run runs a command with a timeout and returns its stdout; it fails the
// test with stderr on a non-zero exit.
func run(t testing.TB, timeout time.Duration, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err, stderr.String(), out)
	}
	return string(out)
}
