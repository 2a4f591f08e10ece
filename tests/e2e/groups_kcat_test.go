package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// kcatRebalance matches kcat's "% Group g rebalanced (memberid m):
// assigned: t [0], t [1]" (or revoked:) lines on stderr.
var kcatRebalance = regexp.MustCompile(`^% Group \S+ rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)$`)

var kcatPartition = regexp.MustCompile(`\[(\d+)\]`)

// parseKcat reads `kcat -G -f '%p %o %s\n'` output: records on stdout,
// rebalances on stderr.
func parseKcat(line string, errOut bool) []event {
	if errOut {
		m := kcatRebalance.FindStringSubmatch(line)
		if m == nil {
			return nil
		}
		e := event{Ev: m[1]}
		for _, pm := range kcatPartition.FindAllStringSubmatch(m[2], -1) {
			p, _ := strconv.Atoi(pm[1])
			e.Partitions = append(e.Partitions, int32(p))
		}
		return []event{e}
	}
	f := strings.SplitN(line, " ", 3)
	if len(f) != 3 {
		return nil
	}
	p, _ := strconv.Atoi(f[0])
	o, _ := strconv.ParseInt(f[1], 10, 64)
	return []event{{Ev: "rec", P: int32(p), O: o, V: f[2]}}
}

// TestKcatBalancedGroup: two `kcat -G` balanced consumers in one group
// split a 4-partition topic, two partitions each, and read every record
// exactly once between them, records produced before and after they
// joined.
func TestKcatBalancedGroup(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	const topic = "kcat-group"
	createTopic(t, b, topic, 4)
	produceRange(t, b, topic, 4, 0, 200)
	v := newGroupView(t)
	var ks []*proc
	for _, name := range []string{"k0", "k1"} {
		p := startProc(t, v.events, name, parseKcat, "kcat", "-u", "-b", b.Addr, "-G", "kgroup",
			"-X", "auto.offset.reset=earliest", "-f", "%p %o %s\n", topic)
		v.procs = append(v.procs, p)
		ks = append(ks, p)
	}
	v.await("k0 and k1 owning two partitions each", v.balanced(4, 2, "k0", "k1"))
	produceRange(t, b, topic, 4, 200, 400)
	v.await("records 0..399", v.readAll(0, 400))
	for _, k := range ks {
		v.ending[k.name] = true
		k.cmd.Process.Signal(syscall.SIGTERM) // kcat closes its consumer: commits and leaves
	}
	v.await("both kcat to exit", v.hasExited("k0", "k1"))
	v.exactlyOnce(0, 400)
	by := map[string]int{}
	for i := 200; i < 400; i++ {
		by[v.reads[strconv.Itoa(i)][0].From]++
	}
	if by["k0"] == 0 || by["k1"] == 0 {
		t.Errorf("records 200..399 read by %v: want both consumers to share them", by)
	}
}
