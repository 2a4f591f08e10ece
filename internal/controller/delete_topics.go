package controller

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// DeleteTopics deletes the topics in req, named by name (v0-5:
// TopicNames; v6+: Topics with a name) or by topic id (v6+, KIP-516). It
// writes one RemoveTopicRecord per deleted topic, all in one entry; the
// broker's replica reconciler deletes the logs when the entry is applied.
//
// Results carry Name and ID (Name "" for an id that names no topic) and
// come in request order, one per distinct name or id. Errors follow
// Kafka's ControllerApis.deleteTopics: UNKNOWN_TOPIC_OR_PARTITION for an
// unknown name, UNKNOWN_TOPIC_ID for an unknown id, INVALID_REQUEST for a
// name or id given twice, for an entry with both or neither, and for a
// name and an id that resolve to the same topic. Internal topics are
// refused with INVALID_TOPIC_EXCEPTION: Kafka 4 leaves that to its tools
// (kafka-topics.sh refuses them), Sluice refuses at the broker so that no
// client can wipe every group or transaction by accident.
func (c *Controller) DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) ([]TopicResult, error) {
	var results []TopicResult
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, results = deleteTopics(im, deleteRefs(req))
		return recs
	})
	return results, err
}

// topicRef names one topic to delete: by name (Name non-nil) or by id.
type topicRef struct {
	Name *string
	ID   model.TopicID
}

// deleteRefs lists what req names, whatever its version.
func deleteRefs(req *kmsg.DeleteTopicsRequest) []topicRef {
	refs := make([]topicRef, 0, len(req.TopicNames)+len(req.Topics))
	for i := range req.TopicNames {
		refs = append(refs, topicRef{Name: &req.TopicNames[i]})
	}
	for _, t := range req.Topics {
		refs = append(refs, topicRef{Name: t.Topic, ID: t.TopicID})
	}
	return refs
}

// deleteTopics is the pure core of DeleteTopics.
func deleteTopics(im *metadata.Image, refs []topicRef) ([]metadata.Record, []TopicResult) {
	names, ids := map[string]int{}, map[model.TopicID]int{}
	for _, r := range refs {
		switch {
		case r.Name != nil && r.ID.IsZero():
			names[*r.Name]++
		case r.Name == nil && !r.ID.IsZero():
			ids[r.ID]++
		}
	}
	results := make([]TopicResult, 0, len(refs))
	targets := map[model.TopicID]int{} // how many valid entries resolve to each topic
	seenName, seenID := map[string]bool{}, map[model.TopicID]bool{}
	for _, r := range refs {
		res := TopicResult{ID: r.ID}
		if r.Name != nil {
			res.Name = *r.Name
		}
		switch {
		case r.Name != nil && !r.ID.IsZero():
			res.Err, res.Message = kerr.InvalidRequest, "You may not specify both topic name and topic id."
		case r.Name == nil && r.ID.IsZero():
			res.Err, res.Message = kerr.InvalidRequest, "Neither topic name nor id were specified."
		case r.Name != nil:
			if seenName[res.Name] {
				continue
			}
			seenName[res.Name] = true
			res = resolveName(im, res.Name, names[res.Name] > 1)
		default:
			if seenID[r.ID] {
				continue
			}
			seenID[r.ID] = true
			res = resolveID(im, r.ID, ids[r.ID] > 1)
		}
		if res.Err == nil {
			targets[res.ID]++
		}
		results = append(results, res)
	}
	var recs []metadata.Record
	for i := range results {
		r := &results[i]
		switch {
		case r.Err != nil:
		case targets[r.ID] > 1:
			r.Err, r.Message = kerr.InvalidRequest, "The provided topic name maps to an ID that was already supplied."
		default:
			recs = append(recs, metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: r.ID}})
		}
	}
	return recs, results
}

func resolveName(im *metadata.Image, name string, dup bool) TopicResult {
	res := TopicResult{Name: name}
	t := im.Topics[name]
	switch {
	case dup:
		res.Err, res.Message = kerr.InvalidRequest, "Duplicate topic name."
	case t == nil:
		res.Err, res.Message = kerr.UnknownTopicOrPartition, kerr.UnknownTopicOrPartition.Description
	case model.IsInternalTopic(name):
		res.Err, res.Message = kerr.InvalidTopicException, fmt.Sprintf("Topic %s is internal and cannot be deleted.", name)
	default:
		res.ID = t.ID
	}
	return res
}

func resolveID(im *metadata.Image, id model.TopicID, dup bool) TopicResult {
	res := TopicResult{ID: id}
	t := im.TopicIDs[id]
	switch {
	case dup:
		res.Err, res.Message = kerr.InvalidRequest, "Duplicate topic id."
	case t == nil:
		res.Err, res.Message = kerr.UnknownTopicID, kerr.UnknownTopicID.Description
	case model.IsInternalTopic(t.Name):
		res.Name = t.Name
		res.Err, res.Message = kerr.InvalidTopicException, fmt.Sprintf("Topic %s is internal and cannot be deleted.", t.Name)
	default:
		res.Name = t.Name
	}
	return res
}
