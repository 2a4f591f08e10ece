package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

func TestJoinSyncHeartbeat(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.InitialRebalanceDelay = 3 * time.Second })
	a, aID := h.joinNew(joinReq{group: "g"})
	b, bID := h.joinNew(joinReq{group: "g"})
	if st := h.group("g").state; st != PreparingRebalance {
		t.Fatalf("state %v, want PreparingRebalance", st)
	}
	h.advance(2 * time.Second)
	noAnswer(t, a) // the initial delay holds the join phase open
	h.advance(2 * time.Second)
	noAnswer(t, a) // b joined during the delay: it is extended once more
	h.advance(3 * time.Second)
	ra, rb := mustAnswer(t, a), mustAnswer(t, b)
	if ra.ErrorCode != 0 || rb.ErrorCode != 0 || ra.Generation != 1 || rb.Generation != 1 {
		t.Fatalf("joins: %+v %+v", ra, rb)
	}
	if ra.LeaderID != aID || len(ra.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("leader %q (want %q) with %d members, follower got %d", ra.LeaderID, aID, len(ra.Members), len(rb.Members))
	}
	if *ra.Protocol != "range" || *ra.ProtocolType != consumerProtocolType {
		t.Fatalf("protocol %q/%q", *ra.ProtocolType, *ra.Protocol)
	}
	if code := h.heartbeat("g", bID, 1, nil); code != 0 {
		t.Fatalf("heartbeat in CompletingRebalance: %d", code)
	}
	sb := h.sync("g", bID, 1, nil)
	noAnswer(t, sb) // waits for the leader's assignment
	sa := h.sync("g", aID, 1, map[string]string{aID: "A", bID: "B"})
	if r := mustAnswer(t, sa); r.ErrorCode != 0 || string(r.MemberAssignment) != "A" || *r.Protocol != "range" {
		t.Fatalf("leader sync: %+v", r)
	}
	if r := mustAnswer(t, sb); r.ErrorCode != 0 || string(r.MemberAssignment) != "B" {
		t.Fatalf("follower sync: %+v", r)
	}
	if st := h.group("g").state; st != Stable {
		t.Fatalf("state %v, want Stable", st)
	}
	if code := h.heartbeat("g", aID, 1, nil); code != 0 {
		t.Fatalf("heartbeat: %d", code)
	}
	// A late sync in Stable gets the stored assignment at once.
	if r := mustAnswer(t, h.sync("g", bID, 1, nil)); string(r.MemberAssignment) != "B" {
		t.Fatalf("sync in Stable: %+v", r)
	}
}

func TestHeartbeatAndSyncErrors(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 2)
	tests := []struct {
		name           string
		group, member  string
		gen            int32
		instance       *string
		wantHB, wantSy int16
	}{
		{"ok", "g", ids[0], 1, nil, 0, 0},
		{"old generation", "g", ids[0], 0, nil, codeIllegalGeneration, codeIllegalGeneration},
		{"future generation", "g", ids[1], 7, nil, codeIllegalGeneration, codeIllegalGeneration},
		{"unknown member", "g", "nobody", 1, nil, codeUnknownMemberID, codeUnknownMemberID},
		{"unknown group", "other", ids[0], 1, nil, codeUnknownMemberID, codeUnknownMemberID},
		{"unknown instance", "g", ids[0], 1, ptr("i"), codeUnknownMemberID, codeUnknownMemberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.heartbeat(tt.group, tt.member, tt.gen, tt.instance); got != tt.wantHB {
				t.Errorf("heartbeat = %d, want %d", got, tt.wantHB)
			}
			if got := mustAnswer(t, h.syncAs(tt.group, tt.member, tt.instance, tt.gen, nil)).ErrorCode; got != tt.wantSy {
				t.Errorf("sync = %d, want %d", got, tt.wantSy)
			}
		})
	}
}

func TestRebalanceOnJoin(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 1)
	cJoin, cID := h.joinNew(joinReq{group: "g"})
	if st := h.group("g").state; st != PreparingRebalance {
		t.Fatalf("state %v", st)
	}
	noAnswer(t, cJoin) // waits for the existing member
	if code := h.heartbeat("g", ids[0], 1, nil); code != codeRebalanceInProgress {
		t.Fatalf("heartbeat = %d, want REBALANCE_IN_PROGRESS", code)
	}
	if code := mustAnswer(t, h.sync("g", ids[0], 1, nil)).ErrorCode; code != codeRebalanceInProgress {
		t.Fatalf("sync = %d", code)
	}
	// The member's commit with its generation is still accepted.
	if codes := h.commit("g", ids[0], 1, "", 5); codes[0] != 0 {
		t.Fatalf("commit while preparing: %d", codes[0])
	}
	aJoin := h.join(joinReq{group: "g", member: ids[0]})
	ra, rc := mustAnswer(t, aJoin), mustAnswer(t, cJoin)
	if ra.Generation != 2 || rc.Generation != 2 || ra.LeaderID != ids[0] || rc.MemberID != cID {
		t.Fatalf("rejoin: %+v / %+v", ra, rc)
	}
}

func TestRebalanceOnSessionTimeout(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 2)
	for range 2 { // a keeps heartbeating, b is silent
		h.advance(4 * time.Second)
		if code := h.heartbeat("g", ids[0], 1, nil); code != 0 {
			t.Fatalf("heartbeat: %d", code)
		}
	}
	h.advance(4 * time.Second) // past b's 10 s session timeout
	if h.group("g").members[ids[1]] != nil {
		t.Fatal("silent member not removed after its session timeout")
	}
	if code := h.heartbeat("g", ids[0], 1, nil); code != codeRebalanceInProgress {
		t.Fatalf("heartbeat = %d, want REBALANCE_IN_PROGRESS", code)
	}
	r := mustAnswer(t, h.join(joinReq{group: "g", member: ids[0]}))
	if r.Generation != 2 || len(r.Members) != 1 {
		t.Fatalf("rejoin: gen %d, %d members", r.Generation, len(r.Members))
	}
}

func TestRebalanceTimeoutDropsSlowMember(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 2)
	aJoin := h.join(joinReq{group: "g", member: ids[0], protocols: []string{"range", "roundrobin"}})
	noAnswer(t, aJoin)
	h.advance(20 * time.Second) // the rebalance timeout; b never rejoined
	r := mustAnswer(t, aJoin)
	if r.ErrorCode != 0 || r.Generation != 2 || len(r.Members) != 1 {
		t.Fatalf("join after rebalance timeout: %+v", r)
	}
	if code := h.heartbeat("g", ids[1], 1, nil); code != codeUnknownMemberID {
		t.Fatalf("dropped member heartbeat = %d", code)
	}
}

func TestPendingSyncExpires(t *testing.T) {
	h := newHarness(t)
	j := joinReq{group: "g", session: 30_000, rebalance: 5_000}
	a, aID := h.joinNew(j)
	b, bID := h.joinNew(j)
	h.advance(0)
	mustAnswer(t, a)
	mustAnswer(t, b)
	sa := h.sync("g", aID, 1, map[string]string{aID: "A", bID: "B"})
	mustAnswer(t, sa)
	// b never syncs: after the rebalance timeout it is dropped.
	h.advance(5 * time.Second)
	g := h.group("g")
	if g.members[bID] != nil || g.state != PreparingRebalance {
		t.Fatalf("state %v, b present %v", g.state, g.members[bID] != nil)
	}
}

func TestStaticMemberRejoin(t *testing.T) {
	h := newHarness(t)
	a := h.join(joinReq{group: "g", instance: ptr("ia"), session: 60_000}) // static: no MEMBER_ID_REQUIRED
	b := h.join(joinReq{group: "g", instance: ptr("ib"), session: 60_000})
	h.advance(0)
	ra, rb := mustAnswer(t, a), mustAnswer(t, b)
	if ra.ErrorCode != 0 || rb.ErrorCode != 0 {
		t.Fatalf("static joins: %d %d", ra.ErrorCode, rb.ErrorCode)
	}
	sb := h.sync("g", rb.MemberID, 1, nil)
	mustAnswer(t, h.sync("g", ra.MemberID, 1, map[string]string{ra.MemberID: "A", rb.MemberID: "B"}))
	mustAnswer(t, sb)

	// b restarts: same instance id, no member id. No rebalance.
	rb2 := mustAnswer(t, h.join(joinReq{group: "g", instance: ptr("ib"), session: 60_000}))
	if rb2.ErrorCode != 0 || rb2.MemberID == rb.MemberID || rb2.Generation != 1 || rb2.SkipAssignment {
		t.Fatalf("static rejoin: %+v", rb2)
	}
	if st := h.group("g").state; st != Stable {
		t.Fatalf("static rejoin rebalanced: %v", st)
	}
	if r := mustAnswer(t, h.sync("g", rb2.MemberID, 1, nil)); string(r.MemberAssignment) != "B" {
		t.Fatalf("static member lost its assignment: %q", r.MemberAssignment)
	}
	if code := h.heartbeat("g", rb.MemberID, 1, ptr("ib")); code != codeFencedInstanceID {
		t.Fatalf("old incarnation heartbeat = %d, want FENCED_INSTANCE_ID", code)
	}
	// The leader restarts: it keeps leading and is told to skip assigning (KIP-814).
	ra2 := mustAnswer(t, h.join(joinReq{group: "g", instance: ptr("ia"), session: 60_000}))
	if ra2.LeaderID != ra2.MemberID || !ra2.SkipAssignment || len(ra2.Members) != 2 {
		t.Fatalf("static leader rejoin: %+v", ra2)
	}
	// Before v9 the client is shown the old leader id, so it does not assign.
	rb3 := mustAnswer(t, h.join(joinReq{group: "g", instance: ptr("ib"), version: 5, session: 60_000}))
	if rb3.LeaderID != ra2.MemberID {
		t.Fatalf("v5 static rejoin leader %q", rb3.LeaderID)
	}
	// A static member that does not rejoin is kept through a rebalance.
	c, _ := h.joinNew(joinReq{group: "g"})
	aJoin := h.join(joinReq{group: "g", member: ra2.MemberID, instance: ptr("ia"), session: 60_000})
	h.advance(20 * time.Second)
	if r := mustAnswer(t, aJoin); r.Generation != 2 || len(r.Members) != 3 {
		t.Fatalf("rebalance with an absent static member: %+v", r)
	}
	mustAnswer(t, c)
}

func TestJoinValidation(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 1)
	tests := []struct {
		name string
		req  joinReq
		want int16
	}{
		{"no common protocol", joinReq{group: "g", protocols: []string{"sticky"}}, codeInconsistentProtocol},
		{"unknown member", joinReq{group: "g", member: "ghost"}, codeUnknownMemberID},
		{"member id for missing group", joinReq{group: "nope", member: ids[0]}, codeUnknownMemberID},
		{"wrong instance", joinReq{group: "g", member: ids[0], instance: ptr("x")}, codeUnknownMemberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustAnswer(t, h.join(tt.req)).ErrorCode; got != tt.want {
				t.Fatalf("code %d, want %d", got, tt.want)
			}
		})
	}
	empty := joinReq{group: "fresh"}.build()
	empty.ProtocolType = ""
	var code int16
	h.run(func(s *shard, w *runtime.Writer) {
		s.join(w, empty, client{}, func(r *kmsg.JoinGroupResponse) { code = r.ErrorCode })
	})
	if code != codeInconsistentProtocol {
		t.Fatalf("join without protocol type: %d", code)
	}
}

func TestJoinV3AddsMemberAtOnce(t *testing.T) {
	h := newHarness(t)
	ch := h.join(joinReq{group: "g", version: 3})
	h.advance(0)
	r := mustAnswer(t, ch)
	if r.ErrorCode != 0 || r.MemberID == "" || r.Generation != 1 {
		t.Fatalf("v3 join: %+v", r)
	}
}

func TestProtocolSelection(t *testing.T) {
	tests := []struct {
		name    string
		members [][]string
		want    string
	}{
		{"one member, first choice", [][]string{{"roundrobin", "range"}}, "roundrobin"},
		{"only common protocol", [][]string{{"range", "roundrobin"}, {"roundrobin"}}, "roundrobin"},
		{"most votes", [][]string{{"range", "rr"}, {"range", "rr"}, {"rr", "range"}}, "range"},
		{"votes skip unsupported", [][]string{{"sticky", "rr", "range"}, {"range", "rr"}, {"rr", "range"}}, "rr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var chans []chan *kmsg.JoinGroupResponse
			for _, ps := range tt.members {
				ch, _ := h.joinNew(joinReq{group: "g", protocols: ps})
				chans = append(chans, ch)
			}
			h.advance(0)
			for _, ch := range chans {
				if r := mustAnswer(t, ch); r.Protocol == nil || *r.Protocol != tt.want {
					t.Fatalf("protocol %v, want %q", r.Protocol, tt.want)
				}
			}
		})
	}
}

func TestLeaveGroup(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 3)
	r := h.leave("g",
		kmsg.LeaveGroupRequestMember{MemberID: ids[1]},
		kmsg.LeaveGroupRequestMember{MemberID: "ghost"},
		kmsg.LeaveGroupRequestMember{InstanceID: ptr("nope")})
	codes := []int16{r.Members[0].ErrorCode, r.Members[1].ErrorCode, r.Members[2].ErrorCode}
	if !slices.Equal(codes, []int16{0, codeUnknownMemberID, codeUnknownMemberID}) {
		t.Fatalf("leave codes %v", codes)
	}
	if st := h.group("g").state; st != PreparingRebalance {
		t.Fatalf("state %v", st)
	}
	// The remaining members rejoin, then everybody leaves: Empty.
	a, c := h.join(joinReq{group: "g", member: ids[0]}), h.join(joinReq{group: "g", member: ids[2]})
	if ra := mustAnswer(t, a); ra.Generation != 2 || len(ra.Members) != 2 {
		t.Fatalf("rejoin after leave: %+v", ra)
	}
	mustAnswer(t, c)
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: ids[0]}, kmsg.LeaveGroupRequestMember{MemberID: ids[2]})
	g := h.group("g")
	if g.state != Empty || len(g.members) != 0 || g.generation != 3 {
		t.Fatalf("after all left: %v, %d members, gen %d", g.state, len(g.members), g.generation)
	}
	if r := h.leave("gone"); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("leave of a missing group: %d", r.ErrorCode)
	}
}

func TestLeaveAnswersParkedJoin(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 2)
	aJoin := h.join(joinReq{group: "g", member: ids[0]})
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: ids[1]}) // the one everyone waited for
	if r := mustAnswer(t, aJoin); r.ErrorCode != 0 || r.Generation != 2 {
		t.Fatalf("join after the other left: %+v", r)
	}
}

func TestUnloadAnswersParked(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.InitialRebalanceDelay = time.Hour })
	j, _ := h.joinNew(joinReq{group: "g"})
	h.sh.Close()
	if r := mustAnswer(t, j); r.ErrorCode != codeNotCoordinator {
		t.Fatalf("parked join on unload: %d", r.ErrorCode)
	}
}

func TestPendingMemberExpires(t *testing.T) {
	h := newHarness(t)
	r := mustAnswer(t, h.join(joinReq{group: "g", session: 1000}))
	if len(h.group("g").pending) != 1 {
		t.Fatal("no pending member")
	}
	h.advance(time.Second)
	if len(h.group("g").pending) != 0 {
		t.Fatal("pending member kept past its session timeout")
	}
	if got := mustAnswer(t, h.join(joinReq{group: "g", member: r.MemberID})).ErrorCode; got != codeUnknownMemberID {
		t.Fatalf("join with an expired pending id: %d", got)
	}
}

func TestNewGroupPersistedEmpty(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.InitialRebalanceDelay = time.Hour })
	h.join(joinReq{group: "g", instance: ptr("i")}) // joins at once, waits in the initial delay
	if st := h.group("g").state; st != PreparingRebalance {
		t.Fatalf("state %v", st)
	}
	h.restart()
	g := h.group("g")
	if g == nil || g.state != Empty || len(g.members) != 0 || g.protocolType != consumerProtocolType {
		t.Fatalf("new group replayed as %+v", g)
	}
}
