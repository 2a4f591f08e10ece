package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

// execute runs the whole sluice command tree with args.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(""))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestClientUsageErrorsExitTwo(t *testing.T) {
	b := closedAddr(t) // usage errors come before any connection
	tests := []struct {
		name string
		args []string
	}{
		{"bad flag value", []string{"consume", "t", "-o", "middle", "-b", b}},
		{"flag parse error", []string{"consume", "t", "-n", "many", "-b", b}},
		{"unknown flag", []string{"topic", "list", "--bogus", "-b", b}},
		{"missing argument", []string{"topic", "describe", "-b", b}},
		{"unknown verb", []string{"topic", "frobnicate", "-b", b}},
		{"bad acks", []string{"produce", "t", "--acks", "2", "-b", b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute(t, tt.args...)
			if _, ok := errors.AsType[usageError](err); !ok {
				t.Errorf("err = %v (%T), want a usageError (exit 2)", err, err)
			}
		})
	}
	_, err := execute(t, "topic", "list", "-b", b)
	if _, ok := errors.AsType[usageError](err); ok || err == nil || !strings.Contains(err.Error(), "cannot reach the cluster at "+b) {
		t.Errorf("unreachable cluster: err = %v, want a plain (exit 1) error naming %s", err, b)
	}
}

func TestBrokersFromEnv(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.ClusterID("from-env"))
	t.Setenv(clientcmd.BrokersEnv, strings.Join(cfg.Brokers(), ","))
	out, err := execute(t, "cluster", "info")
	if err != nil || !strings.Contains(out, "from-env") {
		t.Fatalf("cluster info with %s set: %v\n%s", clientcmd.BrokersEnv, err, out)
	}
	b := closedAddr(t)
	if _, err := execute(t, "cluster", "info", "--brokers", b); err == nil || !strings.Contains(err.Error(), b) {
		t.Errorf("--brokers %s should win over %s: err = %v", b, clientcmd.BrokersEnv, err)
	}
}
