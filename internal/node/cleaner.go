package node

import (
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// clean is the log cleaner loop: every CleanerInterval (or the dynamic
// log.cleaner.backoff.ms, when one is set) it compacts the compacted logs,
// dirtiest first, each up to its last stable offset. It runs apart from
// maintain because a pass over a large log can take seconds.
func (n *Node) clean() {
	t := time.NewTimer(n.cleanerBackoff())
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case now := <-t.C:
			n.cleanOnce(now.UnixMilli())
			t.Reset(n.cleanerBackoff())
		}
	}
}

// cleanerBackoff is the wait between cleaner passes.
func (n *Node) cleanerBackoff() time.Duration {
	v, src, _ := n.opts.eff.forImage(n.pub.Current()).Lookup("log.cleaner.backoff.ms")
	if src == config.SourceDynamicBroker || src == config.SourceDynamicDefaultBroker {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return n.opts.CleanerInterval
}

func (n *Node) cleanOnce(nowMs int64) {
	type dirty struct {
		p     *replica.Partition
		ratio float64
	}
	var logs []dirty
	for _, p := range n.replicas.All() {
		if r := p.Log().CleanableRatio(nowMs); r > 0 {
			logs = append(logs, dirty{p, r})
		}
	}
	sort.Slice(logs, func(i, j int) bool { return logs[i].ratio > logs[j].ratio })
	for _, d := range logs {
		select {
		case <-n.stop:
			return
		default:
		}
		// Only below the last stable offset, as Kafka's cleaner: data
		// above the high watermark may still be truncated, and an open
		// transaction may yet abort (its records must not shadow
		// committed values of their keys).
		_, err := d.p.Log().CleanUpTo(nowMs, d.p.LastStableOffset())
		if err != nil && !errors.Is(err, storage.ErrClosed) {
			n.opts.Log.Error("log cleaner", "partition", d.p.TP, "err", err)
		}
	}
}
