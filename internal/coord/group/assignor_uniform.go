package group

import (
	"cmp"
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/model"
)

// uniformAssignor is Kafka's server-side "uniform" assignor (the default):
// partitions are spread so that member loads differ by at most one
// wherever subscriptions allow it, moving as few partitions as possible
// from the previous target (sticky). It handles members with different
// subscriptions: a partition only goes to a member subscribed to its
// topic.
//
// The steps: keep every previous partition that is still valid, give the
// free ones to the least loaded eligible member (topics with the fewest
// subscribers first, as they have the least choice), then move
// partitions from the most to the least loaded eligible member while
// that narrows a gap of two or more. Every move lowers the sum of squared
// loads, so the loop ends.
type uniformAssignor struct{}

// uniformState is the work of one assign: who owns each partition and
// how many each member has.
type uniformState struct {
	spec  *assignSpec
	subs  map[model.TopicID][]int
	owner map[model.TopicID][]int // partition -> member index, -1 free
	load  []int
}

func (uniformAssignor) assign(spec *assignSpec) map[string]parts {
	st := &uniformState{spec: spec, subs: subscribers(spec), owner: map[model.TopicID][]int{}, load: make([]int, len(spec.members))}
	for t := range st.subs {
		owned := make([]int, spec.topics[t])
		for p := range owned {
			owned[p] = -1
		}
		st.owner[t] = owned
	}
	st.keep()
	st.fill()
	for st.moveOne() {
	}
	out := emptyTargets(spec)
	for t, owned := range st.owner {
		for p, i := range owned {
			out[spec.members[i].id].add(t, int32(p), 0)
		}
	}
	return out
}

// keep gives each member back the partitions of its previous target that
// it still subscribes to and nobody kept first.
func (st *uniformState) keep() {
	for i, m := range st.spec.members {
		for _, t := range m.current.sortedTopics() {
			owned := st.owner[t]
			if owned == nil || !slices.Contains(m.topics, t) {
				continue
			}
			for _, p := range slices.Sorted(maps.Keys(m.current[t])) {
				if p >= 0 && int(p) < len(owned) && owned[p] == -1 {
					owned[p] = i
					st.load[i]++
				}
			}
		}
	}
}

// fill gives every free partition to its least loaded subscriber.
func (st *uniformState) fill() {
	topics := slices.Collect(maps.Keys(st.subs))
	slices.SortFunc(topics, func(a, b model.TopicID) int {
		if c := cmp.Compare(len(st.subs[a]), len(st.subs[b])); c != 0 {
			return c
		}
		return compareTopicIDs(a, b)
	})
	for _, t := range topics {
		for p, i := range st.owner[t] {
			if i == -1 {
				i = st.leastLoaded(st.subs[t])
				st.owner[t][p] = i
				st.load[i]++
			}
		}
	}
}

// leastLoaded is the member of ms with the fewest partitions (the first
// on ties).
func (st *uniformState) leastLoaded(ms []int) int {
	best := ms[0]
	for _, i := range ms[1:] {
		if st.load[i] < st.load[best] {
			best = i
		}
	}
	return best
}

// moveOne moves one partition from the most loaded member that can give
// one to a subscriber with at least two fewer; false when none can.
func (st *uniformState) moveOne() bool {
	order := make([]int, len(st.load))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(st.load[b], st.load[a]) })
	for _, a := range order {
		if st.load[a] < 2 {
			return false
		}
		for _, t := range st.spec.members[a].topics {
			owned := st.owner[t]
			if owned == nil {
				continue
			}
			b := st.leastLoaded(st.subs[t])
			if st.load[b] > st.load[a]-2 {
				continue
			}
			for p := len(owned) - 1; p >= 0; p-- { // its highest partition of t
				if owned[p] == a {
					owned[p] = b
					st.load[a]--
					st.load[b]++
					return true
				}
			}
		}
	}
	return false
}
