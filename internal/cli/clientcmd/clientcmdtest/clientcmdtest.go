// Package clientcmdtest runs sluice client commands in tests: against an
// in-process fake Kafka cluster (franz-go's kfake), with stdin given and
// stdout captured.
package clientcmdtest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// commandTimeout bounds one command run, so a hung command fails the test
// instead of the whole package timing out.
const commandTimeout = 30 * time.Second

// NewCluster starts a one-broker fake cluster, closed when the test ends,
// and returns its Config. opts are added to kfake.NumBrokers(1).
func NewCluster(t testing.TB, opts ...kfake.Opt) *clientcmd.Config {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("start fake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	return &clientcmd.Config{Brokers: func() []string { return addrs }}
}

// Result is what a command run printed and returned.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run builds a command with newCmd(cfg) and runs it with args and stdin.
func Run(t testing.TB, cfg *clientcmd.Config, newCmd func(*clientcmd.Config) *cobra.Command, stdin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := newCmd(cfg)
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.ExecuteContext(ctx)
	return Result{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// MustRun is Run that fails the test on an error, and returns stdout.
func MustRun(t testing.TB, cfg *clientcmd.Config, newCmd func(*clientcmd.Config) *cobra.Command, stdin string, args ...string) string {
	t.Helper()
	r := Run(t, cfg, newCmd, stdin, args...)
	if r.Err != nil {
		t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}
