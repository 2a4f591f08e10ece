package group

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// compileTopicRegex compiles a SubscribedTopicRegex. Kafka matches it
// with RE2/J against whole topic names (Matcher.matches); Go's regexp is
// RE2, anchored here to the whole name.
func compileTopicRegex(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}

// refresh resolves the members' regexes against im. Resolutions are
// kept until the image changes (a topic created, deleted or grown), so a
// steady group does not match its regexes on every heartbeat.
func (cg *consumerGroup) refresh(im *metadata.Image) {
	if cg.image != im {
		clear(cg.resolved)
		cg.image = im
	}
	used := map[string]bool{}
	for _, m := range cg.members {
		if m.regex == "" {
			continue
		}
		used[m.regex] = true
		if _, ok := cg.resolved[m.regex]; !ok {
			cg.resolved[m.regex] = cg.resolve(m.regex, im)
		}
	}
	for re := range cg.regexes {
		if !used[re] {
			delete(cg.regexes, re)
			delete(cg.resolved, re)
		}
	}
}

// resolve lists the topics of im a regex matches, sorted.
func (cg *consumerGroup) resolve(regex string, im *metadata.Image) []string {
	re := cg.regexes[regex]
	if re == nil {
		var err error
		if re, err = compileTopicRegex(regex); err != nil {
			return nil // refused when the member sent it; not from a log
		}
		cg.regexes[regex] = re
	}
	out := []string{}
	for name := range im.Topics {
		if re.MatchString(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// memberTopics is every topic name a member subscribes to: by name and
// through its regex (as last resolved).
func (cg *consumerGroup) memberTopics(m *cmember) []string {
	if m.regex == "" {
		return m.topics
	}
	out := slices.Concat(m.topics, cg.resolved[m.regex])
	slices.Sort(out)
	return slices.Compact(out)
}

// computeSubscription is the group's subscription metadata at im: every
// existing topic a member subscribes to, with its id and partition count
// (Kafka's subscription metadata; its hash is KIP-1101's metadata hash).
func (cg *consumerGroup) computeSubscription(im *metadata.Image) map[string]topicMeta {
	cg.refresh(im)
	out := map[string]topicMeta{}
	for _, m := range cg.members {
		for _, name := range cg.memberTopics(m) {
			if _, ok := out[name]; ok {
				continue
			}
			if t := im.Topics[name]; t != nil {
				out[name] = topicMeta{id: t.ID, name: name, partitions: int32(len(t.Partitions))}
			}
		}
	}
	return out
}

// subscribedIDs is the ids of the topics of the subscription metadata a
// member subscribes to, sorted.
func (cg *consumerGroup) subscribedIDs(m *cmember) []model.TopicID {
	var ids []model.TopicID
	for _, name := range cg.memberTopics(m) {
		if t, ok := cg.subscription[name]; ok {
			ids = append(ids, t.id)
		}
	}
	slices.SortFunc(ids, compareTopicIDs)
	return ids
}

// subscriptionHash digests subscription metadata (FNV-64a over the sorted
// topics' names, ids and partition counts). It is stored as the group's
// MetadataHash (KIP-1101); a change of it bumps the group epoch.
func subscriptionHash(sub map[string]topicMeta) int64 {
	if len(sub) == 0 {
		return 0
	}
	h := fnv.New64a()
	var n [4]byte
	for _, name := range slices.Sorted(maps.Keys(sub)) {
		t := sub[name]
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(t.id[:])
		binary.BigEndian.PutUint32(n[:], uint32(t.partitions))
		h.Write(n[:])
	}
	return int64(h.Sum64())
}
