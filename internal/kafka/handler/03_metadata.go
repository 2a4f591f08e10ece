package handler

// Metadata, versions 0-13.
//
// Lists brokers, the cluster id (v2+), the controller (v1+) and the topics
// asked for (all of them for a null list, or for an empty list at v0).
// Topics may be named by id from v12 (KIP-516): an unknown id gets
// UNKNOWN_TOPIC_ID. An unknown topic is created with the broker defaults
// when auto.create.topics.enable is on and the request allows it (v4+;
// older versions always allow it), else it gets UNKNOWN_TOPIC_OR_PARTITION.
// Creation is synchronous, so the created topic is returned with its
// partitions in the same response. Authorized operations (v8-10) are
// reported as "not requested".

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

const authorizedOpsNotRequested = -2147483648

func handleMetadata(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.MetadataRequest)
	im := b.Metadata.Current()
	missing := b.topicsToCreate(req, im)
	if len(missing) == 0 {
		return Now(b.metadataResponse(req, im))
	}
	return Later(func() kmsg.Response {
		b.autoCreate(missing)
		return b.metadataResponse(req, b.Metadata.Current())
	})
}

// topicsToCreate lists the unknown, validly named topics that the request
// may auto-create.
func (b *Broker) topicsToCreate(req *kmsg.MetadataRequest, im *metadata.Image) []string {
	allow := req.AllowAutoTopicCreation || req.GetVersion() < 4
	if !allow || !b.Settings.AutoCreateTopics {
		return nil
	}
	var out []string
	for _, t := range req.Topics {
		if t.Topic == nil || *t.Topic == "" || im.Topics[*t.Topic] != nil {
			continue
		}
		if controller.ValidateTopicName(*t.Topic) == nil {
			out = append(out, *t.Topic)
		}
	}
	return out
}

// autoCreate creates topics with the broker defaults. Internal topics
// are left to their coordinators (created on the first FindCoordinator
// with offsets.topic.num.partitions and a compacted config); with the
// defaults they would be one uncompacted partition. A topic created
// concurrently by someone else is fine; other errors show up as the
// topic's error in the response that follows.
func (b *Broker) autoCreate(names []string) {
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, n := range names {
		if model.IsInternalTopic(n) {
			continue // its coordinator creates it, with its own settings
		}
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = n, -1, -1
		req.Topics = append(req.Topics, t)
	}
	if len(req.Topics) == 0 {
		return
	}
	if _, err := b.Controller.CreateTopics(context.Background(), req); err != nil {
		b.Log.Warn("auto-create topics", "topics", names, "err", err)
	}
}

func (b *Broker) metadataResponse(req *kmsg.MetadataRequest, im *metadata.Image) *kmsg.MetadataResponse {
	resp := kmsg.NewPtrMetadataResponse()
	resp.SetVersion(req.GetVersion())
	resp.ClusterID = &im.ClusterID
	resp.ControllerID = int32(b.Settings.ControllerID)
	resp.AuthorizedOperations = authorizedOpsNotRequested
	for _, id := range im.BrokerIDs() {
		br := im.Brokers[id]
		if br.Fenced {
			continue
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port = int32(br.ID), br.Host, br.Port
		if br.Rack != "" {
			mb.Rack = &br.Rack
		}
		resp.Brokers = append(resp.Brokers, mb)
	}
	all := req.Topics == nil || (len(req.Topics) == 0 && req.GetVersion() == 0)
	if all {
		for _, name := range im.TopicNames() {
			resp.Topics = append(resp.Topics, topicMetadata(im, im.Topics[name]))
		}
		return resp
	}
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, lookupTopicMetadata(im, rt))
	}
	return resp
}

func lookupTopicMetadata(im *metadata.Image, rt kmsg.MetadataRequestTopic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.AuthorizedOperations = authorizedOpsNotRequested
	if rt.Topic == nil || *rt.Topic == "" {
		mt.TopicID = rt.TopicID
		t := im.TopicIDs[model.TopicID(rt.TopicID)]
		if t == nil {
			mt.ErrorCode = kerr.UnknownTopicID.Code
			return mt
		}
		return topicMetadata(im, t)
	}
	mt.Topic = rt.Topic
	if err := controller.ValidateTopicName(*rt.Topic); err != nil {
		mt.ErrorCode = kerr.InvalidTopicException.Code
		return mt
	}
	t := im.Topics[*rt.Topic]
	if t == nil {
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	return topicMetadata(im, t)
}

func topicMetadata(im *metadata.Image, t *metadata.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic, mt.TopicID = &name, t.ID
	mt.IsInternal = model.IsInternalTopic(t.Name)
	mt.AuthorizedOperations = authorizedOpsNotRequested
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader = int32(p.Leader)
		mp.LeaderEpoch = int32(p.LeaderEpoch)
		mp.Replicas = nodeIDs(p.Replicas)
		mp.ISR = nodeIDs(p.ISR)
		mp.OfflineReplicas = offlineReplicas(im, p)
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// offlineReplicas lists p's replicas on brokers that are fenced or not
// registered (Kafka's getOfflineReplicas), never nil.
func offlineReplicas(im *metadata.Image, p metadata.Partition) []int32 {
	out := []int32{}
	for _, id := range p.Replicas {
		if b := im.Brokers[id]; b == nil || b.Fenced {
			out = append(out, int32(id))
		}
	}
	return out
}

func nodeIDs(ids []model.NodeID) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
