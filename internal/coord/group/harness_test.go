package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/coord/runtime/runtimetest"
)

// harness drives one shard over an in-memory log with a fake clock: ops
// run as the Coordinator runs them, timers fire only on advance.
type harness struct {
	t     *testing.T
	clock *runtimetest.Clock
	log   *runtimetest.Log
	opts  Options
	m     *shard
	sh    *runtime.Shard
}

func testOptions() Options {
	o := DefaultOptions()
	o.InitialRebalanceDelay = 0
	o.MinSessionTimeout = time.Millisecond
	o.normalize()
	return o
}

func newHarness(t *testing.T, mods ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: runtimetest.NewClock(time.Unix(1_700_000_000, 0)), log: runtimetest.NewLog(), opts: testOptions()}
	for _, m := range mods {
		m(&h.opts)
	}
	h.opts.Clock = h.clock
	h.load()
	return h
}

func (h *harness) load() {
	h.t.Helper()
	h.m = newShard(&h.opts, 0)
	sh, err := runtime.Load(context.Background(), h.log, h.m, runtime.Options{Clock: h.clock})
	if err != nil {
		h.t.Fatalf("load: %v", err)
	}
	h.sh = sh
	h.t.Cleanup(sh.Close)
}

// restart closes the shard and loads a new one from the same log.
func (h *harness) restart() {
	h.sh.Close()
	h.load()
}

func (h *harness) run(op func(s *shard, w *runtime.Writer)) {
	h.t.Helper()
	if err := h.sh.Run(func(w *runtime.Writer) { op(h.m, w) }); err != nil {
		h.t.Fatalf("run: %v", err)
	}
}

// advance moves the fake time (0 fires timers due now).
func (h *harness) advance(d time.Duration) { h.clock.Advance(d) }

func (h *harness) group(id string) *group { return h.m.groups[id] }

// joinReq is a consumer's JoinGroup (latest version unless v set).
type joinReq struct {
	group, member string
	instance      *string
	protocols     []string // names; metadata subscribes to topics
	topics        []string
	session       int32
	rebalance     int32
	version       int16
}

func (j joinReq) build() *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = 9
	if j.version != 0 {
		r.Version = j.version
	}
	r.Group, r.MemberID, r.InstanceID, r.ProtocolType = j.group, j.member, j.instance, consumerProtocolType
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = 10_000, 20_000
	if j.session != 0 {
		r.SessionTimeoutMillis = j.session
	}
	if j.rebalance != 0 {
		r.RebalanceTimeoutMillis = j.rebalance
	}
	names := j.protocols
	if names == nil {
		names = []string{"range"}
	}
	topics := j.topics
	if topics == nil {
		topics = []string{"t"}
	}
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = topics
	for _, n := range names {
		r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: n, Metadata: meta.AppendTo(nil)})
	}
	return r
}

// join sends a JoinGroup; the answer arrives on the channel, maybe later.
func (h *harness) join(j joinReq) chan *kmsg.JoinGroupResponse {
	h.t.Helper()
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	h.run(func(s *shard, w *runtime.Writer) {
		s.join(w, j.build(), client{id: "cl", host: "/127.0.0.1"}, func(r *kmsg.JoinGroupResponse) { ch <- r })
	})
	return ch
}

// joinNew joins as a new dynamic member: MEMBER_ID_REQUIRED, then the
// join with the id. It returns the parked join's channel and the id.
func (h *harness) joinNew(j joinReq) (chan *kmsg.JoinGroupResponse, string) {
	h.t.Helper()
	r := mustAnswer(h.t, h.join(j))
	if r.ErrorCode != codeMemberIDRequired || r.MemberID == "" {
		h.t.Fatalf("first join: code %d id %q, want MEMBER_ID_REQUIRED with an id", r.ErrorCode, r.MemberID)
	}
	j.member = r.MemberID
	return h.join(j), r.MemberID
}

func (h *harness) sync(group, member string, gen int32, assign map[string]string) chan *kmsg.SyncGroupResponse {
	h.t.Helper()
	return h.syncAs(group, member, nil, gen, assign)
}

func (h *harness) syncAs(group, member string, instance *string, gen int32, assign map[string]string) chan *kmsg.SyncGroupResponse {
	h.t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.InstanceID, req.Generation = group, member, instance, gen
	for m, a := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(a)})
	}
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	h.run(func(s *shard, w *runtime.Writer) {
		s.sync(w, req, func(r *kmsg.SyncGroupResponse) { ch <- r })
	})
	return ch
}

func (h *harness) heartbeat(group, member string, gen int32, instance *string) int16 {
	h.t.Helper()
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, member, gen, instance
	var code int16
	h.run(func(s *shard, w *runtime.Writer) { code = s.heartbeat(w, req) })
	return code
}

func (h *harness) leave(group string, members ...kmsg.LeaveGroupRequestMember) *kmsg.LeaveGroupResponse {
	h.t.Helper()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 5
	req.Group, req.Members = group, members
	var r *kmsg.LeaveGroupResponse
	h.run(func(s *shard, w *runtime.Writer) { r = s.leave(w, req) })
	return r
}

// commit commits offsets (topic t, partition i gets offsets[i]) and
// returns each partition's code.
func (h *harness) commit(group, member string, gen int32, meta string, offsets ...int64) []int16 {
	h.t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 9
	req.Group, req.MemberID, req.Generation = group, member, gen
	resp := make([]kmsg.OffsetCommitResponseTopicPartition, len(offsets))
	var parts []commitPartition
	for i, o := range offsets {
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = int32(i), o, 3, &meta
		parts = append(parts, commitPartition{topic: "t", part: &p, resp: &resp[i]})
	}
	h.run(func(s *shard, w *runtime.Writer) { s.commit(w, req, parts) })
	codes := make([]int16, len(resp))
	for i := range resp {
		codes[i] = resp[i].ErrorCode
	}
	return codes
}

func (h *harness) fetch(group string) map[int32]int64 {
	h.t.Helper()
	out := map[int32]int64{}
	h.run(func(s *shard, w *runtime.Writer) {
		for _, o := range s.fetch(group, nil) {
			out[o.partition] = o.offset
		}
	})
	return out
}

// stable builds a stable group of n dynamic members (each assigned its
// own id as bytes) and returns their ids.
func (h *harness) stable(group string, n int) []string {
	h.t.Helper()
	var chans []chan *kmsg.JoinGroupResponse
	var ids []string
	for range n {
		ch, id := h.joinNew(joinReq{group: group})
		chans, ids = append(chans, ch), append(ids, id)
	}
	h.advance(0)
	var leader string
	var gen int32
	for _, ch := range chans {
		r := mustAnswer(h.t, ch)
		if r.ErrorCode != 0 {
			h.t.Fatalf("join: code %d", r.ErrorCode)
		}
		leader, gen = r.LeaderID, r.Generation
	}
	assign := map[string]string{}
	for _, id := range ids {
		assign[id] = id
	}
	var syncs []chan *kmsg.SyncGroupResponse
	for _, id := range ids {
		if id != leader {
			syncs = append(syncs, h.sync(group, id, gen, nil))
		}
	}
	syncs = append(syncs, h.sync(group, leader, gen, assign))
	for _, ch := range syncs {
		if r := mustAnswer(h.t, ch); r.ErrorCode != 0 {
			h.t.Fatalf("sync: code %d", r.ErrorCode)
		}
	}
	if st := h.group(group).state; st != Stable {
		h.t.Fatalf("group is %v, want Stable", st)
	}
	return ids
}

func mustAnswer[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case r := <-ch:
		return r
	default:
		t.Fatal("no answer")
	}
	panic("unreachable")
}

func noAnswer[T any](t *testing.T, ch chan T) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected answer %+v", r)
	default:
	}
}

func ptr(s string) *string { return &s }
