package brokerproc

import (
	"fmt"
	"strings"
	"testing"
)

// StartQuorum starts n combined nodes (process.roles=broker,controller,
// node ids 1..n), every one a voter of controller.quorum.voters, with
// settings added to each, and waits until all accept connections (each
// serves once the quorum elected a leader, so they start together). They
// are stopped when the test ends.
func StartQuorum(t testing.TB, bin string, n int, o Options) []*Broker {
	t.Helper()
	bs := make([]*Broker, n)
	voters := make([]string, n)
	for i := range bs {
		b := &Broker{t: t, bin: bin, o: o, DataDir: t.TempDir()}
		b.Addr = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		b.ControllerAddr = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		voters[i] = fmt.Sprintf("%d@%s", i+1, b.ControllerAddr)
		bs[i] = b
	}
	for i, b := range bs {
		b.args = []string{"serve",
			"--set", fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", b.Addr, b.ControllerAddr),
			"--set", fmt.Sprintf("node.id=%d", i+1),
			"--set", "controller.quorum.voters=" + strings.Join(voters, ","),
			"--set", "log.dirs=" + b.DataDir}
		for _, s := range o.Settings {
			b.args = append(b.args, "--set", s)
		}
		b.launch()
		b.stopAtCleanup()
	}
	for _, b := range bs {
		b.waitReady()
	}
	return bs
}
