package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// heartbeat handles a Heartbeat: it restarts the member's session timeout
// and tells it whether to rejoin.
func (s *shard) heartbeat(w *runtime.Writer, req *kmsg.HeartbeatRequest) int16 {
	g := s.groups[req.Group]
	switch {
	case g == nil:
		return codeUnknownMemberID
	case g.state == Dead:
		return codeCoordinatorNotAvailable
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	if req.Generation != g.generation {
		return codeIllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
		return codeRebalanceInProgress
	case CompletingRebalance, Stable:
		s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
		return 0
	}
	return codeUnknownMemberID
}
