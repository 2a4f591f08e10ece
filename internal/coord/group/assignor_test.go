package group

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// spec builds an assignor input: topics name -> partitions, members
// id -> subscribed topic names, current targets id -> topic -> partitions.
func spec(topics map[string]int32, subs map[string][]string, current map[string]map[string][]int32) *assignSpec {
	s := &assignSpec{topics: map[model.TopicID]int32{}}
	for name, n := range topics {
		s.topics[topicID(name)] = n
	}
	for _, id := range slices.Sorted(maps.Keys(subs)) {
		m := assignMember{id: id, current: parts{}}
		for _, name := range subs[id] {
			m.topics = append(m.topics, topicID(name))
		}
		slices.SortFunc(m.topics, compareTopicIDs)
		for name, ps := range current[id] {
			for _, p := range ps {
				m.current.add(topicID(name), p, 0)
			}
		}
		s.members = append(s.members, m)
	}
	return s
}

// checkComplete fails unless every partition of every subscribed topic
// is assigned exactly once, to a subscriber.
func checkComplete(t *testing.T, s *assignSpec, out map[string]parts) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range s.members {
		for id, ps := range out[m.id] {
			if !slices.Contains(m.topics, id) {
				t.Fatalf("%s got a topic it does not subscribe to", m.id)
			}
			for p := range ps {
				k := fmt.Sprint(id, p)
				if seen[k] {
					t.Fatalf("partition %s assigned twice", k)
				}
				seen[k] = true
			}
		}
	}
	want := 0
	for id, n := range s.topics {
		if len(subscribers(s)[id]) > 0 {
			want += int(n)
		}
	}
	if len(seen) != want {
		t.Fatalf("%d partitions assigned, want %d", len(seen), want)
	}
}

func loads(s *assignSpec, out map[string]parts) []int {
	var l []int
	for _, m := range s.members {
		l = append(l, out[m.id].count())
	}
	return l
}

func TestUniformAssignorBalance(t *testing.T) {
	tests := []struct {
		name   string
		topics map[string]int32
		subs   map[string][]string
		want   []int
	}{
		{"even", map[string]int32{"a": 6}, map[string][]string{"m1": {"a"}, "m2": {"a"}, "m3": {"a"}}, []int{2, 2, 2}},
		{"uneven", map[string]int32{"a": 4, "b": 3}, map[string][]string{"m1": {"a", "b"}, "m2": {"a", "b"}, "m3": {"a", "b"}}, []int{3, 2, 2}},
		{"more members than partitions", map[string]int32{"a": 2}, map[string][]string{"m1": {"a"}, "m2": {"a"}, "m3": {"a"}}, []int{1, 1, 0}},
		// m1 alone reads b: it gets b, and a goes to the others.
		{"heterogeneous", map[string]int32{"a": 4, "b": 2}, map[string][]string{"m1": {"a", "b"}, "m2": {"a"}, "m3": {"a"}}, []int{2, 2, 2}},
		{"nobody subscribed", map[string]int32{"a": 4}, map[string][]string{"m1": {}}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.topics, tt.subs, nil)
			out := uniformAssignor{}.assign(s)
			checkComplete(t, s, out)
			if got := loads(s, out); !slices.Equal(got, tt.want) {
				t.Fatalf("loads %v, want %v", got, tt.want)
			}
		})
	}
}

// A joining member takes partitions from the others, who keep the rest;
// a leaving member's partitions are spread, nothing else moves.
func TestUniformAssignorStickiness(t *testing.T) {
	topics := map[string]int32{"a": 6, "b": 6}
	both := []string{"a", "b"}
	first := uniformAssignor{}.assign(spec(topics, map[string][]string{"m1": both, "m2": both}, nil))
	current := map[string]map[string][]int32{}
	for _, id := range []string{"m1", "m2"} {
		current[id] = named(first[id])
	}
	s := spec(topics, map[string][]string{"m1": both, "m2": both, "m3": both}, current)
	second := uniformAssignor{}.assign(s)
	checkComplete(t, s, second)
	if got := loads(s, second); !slices.Equal(got, []int{4, 4, 4}) {
		t.Fatalf("loads %v", got)
	}
	for _, id := range []string{"m1", "m2"} {
		if moved := first[id].count() - common(first[id], second[id]); moved != 2 {
			t.Fatalf("%s lost %d partitions, want 2", id, moved)
		}
	}
	// m2 leaves: m1 and m3 keep theirs and split m2's.
	current = map[string]map[string][]int32{"m1": named(second["m1"]), "m3": named(second["m3"])}
	s = spec(topics, map[string][]string{"m1": both, "m3": both}, current)
	third := uniformAssignor{}.assign(s)
	checkComplete(t, s, third)
	for _, id := range []string{"m1", "m3"} {
		if common(second[id], third[id]) != second[id].count() || third[id].count() != 6 {
			t.Fatalf("%s: had %v, has %v", id, second[id], third[id])
		}
	}
}

func TestRangeAssignorCoPartitions(t *testing.T) {
	topics := map[string]int32{"orders": 5, "payments": 5, "other": 3}
	s := spec(topics, map[string][]string{
		"m1": {"orders", "payments", "other"}, "m2": {"orders", "payments", "other"}, "m3": {"orders", "payments"},
	}, nil)
	out := rangeAssignor{}.assign(s)
	checkComplete(t, s, out)
	want := map[string][]int32{"m1": {0, 1}, "m2": {2, 3}, "m3": {4}}
	for id, ps := range want {
		for _, topic := range []string{"orders", "payments"} {
			if got := partitionsOf(out[id], topicID(topic)); !slices.Equal(got, ps) {
				t.Fatalf("%s %s = %v, want %v", id, topic, got, ps)
			}
		}
	}
	if got := partitionsOf(out["m1"], topicID("other")); !slices.Equal(got, []int32{0, 1}) {
		t.Fatalf("m1 other = %v", got)
	}
	// Static members are ordered by instance id: the same ranges after a
	// restart under new member ids.
	s.members[0].instance, s.members[2].instance = "z", "a"
	out = rangeAssignor{}.assign(s)
	if got := partitionsOf(out["m3"], topicID("orders")); !slices.Equal(got, []int32{0, 1}) {
		t.Fatalf("instance a got %v", got)
	}
}

func TestPreferredAssignor(t *testing.T) {
	cg := newConsumerGroup()
	if got := cg.preferredAssignor("uniform"); got != "uniform" {
		t.Fatalf("no votes: %s", got)
	}
	cg.members["a"] = &cmember{assignor: "range"}
	cg.members["b"] = &cmember{assignor: "range"}
	cg.members["c"] = &cmember{assignor: "uniform"}
	cg.members["d"] = &cmember{}
	if got := cg.preferredAssignor("uniform"); got != "range" {
		t.Fatalf("majority: %s", got)
	}
}

// named turns an assignment into topic names -> partitions.
func named(p parts) map[string][]int32 {
	out := map[string][]int32{}
	for _, name := range []string{"a", "b"} {
		if ps := partitionsOf(p, topicID(name)); len(ps) > 0 {
			out[name] = ps
		}
	}
	return out
}

// common counts the partitions two assignments share.
func common(a, b parts) int {
	n := 0
	for id, ps := range a {
		for p := range ps {
			if b.has(id, p) {
				n++
			}
		}
	}
	return n
}
