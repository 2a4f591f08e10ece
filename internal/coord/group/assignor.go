package group

import (
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/model"
)

// assignor is a server-side partition assignor of consumer groups
// (KIP-848's ConsumerGroupPartitionAssignor): from the members'
// subscriptions and their previous targets it computes every member's
// target assignment. Assignors are pure functions of their input, safe
// for concurrent use.
type assignor interface {
	assign(spec *assignSpec) map[string]parts
}

// assignSpec is an assignor's input.
type assignSpec struct {
	// topics is the partition count of every subscribed topic.
	topics map[model.TopicID]int32
	// members, sorted by id.
	members []assignMember
}

// assignMember is one member as an assignor sees it.
type assignMember struct {
	id       string
	instance string          // group.instance.id, "" for a dynamic member
	topics   []model.TopicID // subscribed topics that exist, sorted
	current  parts           // its previous target (stickiness)
}

// assignors are the server-side assignors by name
// (group.consumer.assignors picks and orders them).
var assignors = map[string]assignor{
	"uniform": uniformAssignor{},
	"range":   rangeAssignor{},
}

// preferredAssignor is the assignor most members asked for (ties by
// name), or def when none asked: Kafka's preferred server assignor.
func (cg *consumerGroup) preferredAssignor(def string) string {
	votes := map[string]int{}
	for _, m := range cg.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best := def
	bestVotes := 0
	for _, name := range slices.Sorted(maps.Keys(votes)) {
		if votes[name] > bestVotes {
			best, bestVotes = name, votes[name]
		}
	}
	return best
}

// emptyTargets returns an empty assignment for every member.
func emptyTargets(spec *assignSpec) map[string]parts {
	out := make(map[string]parts, len(spec.members))
	for _, m := range spec.members {
		out[m.id] = parts{}
	}
	return out
}

// subscribers lists, per topic, the indexes of spec.members that
// subscribe to it, in member order.
func subscribers(spec *assignSpec) map[model.TopicID][]int {
	out := map[model.TopicID][]int{}
	for i, m := range spec.members {
		for _, t := range m.topics {
			if _, ok := spec.topics[t]; ok {
				out[t] = append(out[t], i)
			}
		}
	}
	return out
}
