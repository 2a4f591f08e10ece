package group

import (
	"cmp"
	"maps"
	"slices"
)

// rangeAssignor is Kafka's server-side "range" assignor: for each topic,
// its subscribers in a fixed order (group.instance.id, else member id)
// get contiguous ranges of partitions, the first ones one more when the
// count does not divide. Topics with the same subscribers and partition
// count are thus co-partitioned: partition i of each goes to the same
// member, which joins need. It is sticky only in being deterministic:
// the same members get the same ranges.
type rangeAssignor struct{}

func (rangeAssignor) assign(spec *assignSpec) map[string]parts {
	out := emptyTargets(spec)
	order := slices.Clone(spec.members)
	slices.SortStableFunc(order, func(a, b assignMember) int { return cmp.Compare(rangeKey(a), rangeKey(b)) })
	index := map[string]int{}
	for i, m := range order {
		index[m.id] = i
	}
	subs := subscribers(spec)
	for _, t := range slices.SortedFunc(maps.Keys(subs), compareTopicIDs) {
		members := slices.Clone(subs[t])
		slices.SortFunc(members, func(a, b int) int {
			return cmp.Compare(index[spec.members[a].id], index[spec.members[b].id])
		})
		n := spec.topics[t]
		per, extra := n/int32(len(members)), n%int32(len(members))
		start := int32(0)
		for i, mi := range members {
			count := per
			if int32(i) < extra {
				count++
			}
			for p := start; p < start+count; p++ {
				out[spec.members[mi].id].add(t, p, 0)
			}
			start += count
		}
	}
	return out
}

// rangeKey orders members for ranges: a static member by its instance
// id, so it keeps its ranges across restarts.
func rangeKey(m assignMember) string {
	if m.instance != "" {
		return m.instance
	}
	return m.id
}
