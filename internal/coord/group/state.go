package group

import "strings"

// State is a classic group's state, as Kafka names them.
type State int8

// The classic group states. Empty: no members (maybe offsets).
// PreparingRebalance: members are (re)joining; joins are parked.
// CompletingRebalance: joins answered, waiting for the leader's
// assignment in SyncGroup. Stable: assignment handed out. Dead: removed,
// about to leave memory.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

func (s State) String() string { return stateNames[s] }

// parseState matches Kafka's state names case-insensitively
// (ListGroups v4 states filter).
func parseState(name string) (State, bool) {
	for i, n := range stateNames {
		if strings.EqualFold(n, name) {
			return State(i), true
		}
	}
	return 0, false
}
