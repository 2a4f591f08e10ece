package group

import (
	"github.com/sluice-io/sluice/internal/coord/runtime"
)

const cleanupKey = "cleanup"

// scheduleCleanup arms the periodic offset expiration
// (offsets.retention.check.interval.ms).
func (s *shard) scheduleCleanup(w *runtime.Writer) {
	w.Schedule(cleanupKey, s.opts.OffsetsRetentionCheckInterval, func(w *runtime.Writer) {
		s.cleanup(w)
		s.scheduleCleanup(w)
	})
}

// cleanup expires offsets (KIP-211: those of a group that has been empty
// for offsets.retention.minutes; those of a simple consumer that has not
// committed for as long; in a stable consumer group, those of topics it
// no longer subscribes to, KIP-496) and deletes empty groups left without
// offsets.
func (s *shard) cleanup(w *runtime.Writer) {
	now := w.Now().UnixMilli()
	retention := s.opts.OffsetsRetention.Milliseconds()
	for id, g := range s.groups {
		if g.consumer != nil {
			s.cleanupConsumerGroup(w, g, now, retention) // consumer_offsets.go
			continue
		}
		left := 0
		base, ok := expirationBase(g)
		for topic, parts := range g.offsets {
			for p, o := range parts {
				keep := !ok || (g.state == Stable && g.isSubscribed(topic)) || !expired(o, base(o), retention, now)
				if keep {
					left++
					continue
				}
				w.Append(offsetKey(id, topic, p), nil)
			}
		}
		if g.state == Empty && left == 0 {
			// Replayed after the offsets' tombstones: the group goes.
			w.Append(groupKey(id), nil)
		}
	}
}

// expirationBase is Kafka's ClassicGroup.offsetExpirationCondition: the
// time an offset's retention counts from, and whether offsets of the
// group expire at all now.
func expirationBase(g *group) (func(*offset) int64, bool) {
	commit := func(o *offset) int64 { return o.commitMs }
	switch {
	case g.protocolType == "":
		return commit, true
	case g.state == Empty:
		if g.stateTimestamp < 0 {
			return commit, true
		}
		return func(*offset) int64 { return g.stateTimestamp }, true
	case g.protocolType == consumerProtocolType && g.subscribed != nil && g.state == Stable:
		return commit, true
	}
	return nil, false
}

func expired(o *offset, base, retention, now int64) bool {
	if o.expireMs >= 0 {
		return now >= o.expireMs
	}
	return now-base >= retention
}
