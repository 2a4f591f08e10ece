package handler

// What brokers ask of the controller on the CONTROLLER listener, besides
// the metadata log (controller_metadata.go) and the admin requests they
// forward (served by the same handlers as on the client listener):
//
// BrokerRegistration (key 62): a broker registers its client endpoint
// (the first listener it names), rack and incarnation id; the controller
// writes its BrokerRecord, or answers DUPLICATE_BROKER_REGISTRATION when
// another incarnation of that node id lives. The answer's broker_epoch is
// the index of the record that registered this incarnation; a heartbeat
// at another epoch is STALE_BROKER_EPOCH (a replaced process).
//
// AllocateProducerIds (key 67, KIP-730): a block of
// producerid.BlockSize producer ids for the broker.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/producerid"
)

func handleBrokerRegistration(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.BrokerRegistrationRequest)
	resp := kmsg.NewPtrBrokerRegistrationResponse()
	resp.SetVersion(req.GetVersion())
	if len(req.Listeners) == 0 || req.BrokerID < 0 {
		resp.ErrorCode = kerr.InvalidRegistration.Code
		return Now(resp)
	}
	if im := b.Metadata.Current(); req.ClusterID != "" && im.ClusterID != "" && req.ClusterID != im.ClusterID {
		resp.ErrorCode = kerr.InconsistentClusterID.Code
		return Now(resp)
	}
	rec := metadata.BrokerRecord{ID: model.NodeID(req.BrokerID), Host: req.Listeners[0].Host, Port: int32(req.Listeners[0].Port),
		Incarnation: model.TopicID(req.IncarnationID)}
	if req.Rack != nil {
		rec.Rack = *req.Rack
	}
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, 30*time.Second)
		defer cancel()
		if err := b.Controller.Register(ctx, rec); err != nil {
			resp.ErrorCode = controllerErrorCode(err)
			return resp
		}
		resp.BrokerEpoch = -1
		if br := b.Metadata.Current().Brokers[rec.ID]; br != nil {
			resp.BrokerEpoch = br.Epoch
		}
		return resp
	})
}

func handleAllocateProducerIDs(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.AllocateProducerIDsRequest)
	resp := kmsg.NewPtrAllocateProducerIDsResponse()
	resp.SetVersion(req.GetVersion())
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, 30*time.Second)
		defer cancel()
		first, err := b.Controller.AllocateProducerIDs(ctx, model.NodeID(req.BrokerID), producerid.BlockSize)
		if err != nil {
			resp.ErrorCode = errorCode(err)
			return resp
		}
		resp.ProducerIDStart, resp.ProducerIDLen = first, producerid.BlockSize
		return resp
	})
}

// handleBrokerHeartbeat (key 63): a broker's heartbeat keeps its session;
// one from a fenced broker unfences it, one with want_shutdown fences it
// at once so its partitions get new leaders (controller/sessions.go). A broker
// the controller does not know answers STALE_BROKER_EPOCH, so it
// registers again.
func handleBrokerHeartbeat(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.BrokerHeartbeatRequest)
	resp := kmsg.NewPtrBrokerHeartbeatResponse()
	resp.SetVersion(req.GetVersion())
	if b.Sessions == nil {
		resp.ErrorCode = kerr.NotController.Code
		return Now(resp)
	}
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, 30*time.Second)
		defer cancel()
		if req.WantShutdown {
			if err := b.Sessions.Shutdown(ctx, model.NodeID(req.BrokerID), req.BrokerEpoch); err != nil {
				resp.ErrorCode = errorCode(err)
			}
			resp.IsFenced, resp.ShouldShutdown = true, true
			return resp
		}
		fenced, err := b.Sessions.Heartbeat(ctx, model.NodeID(req.BrokerID), req.BrokerEpoch, req.CurrentMetadataOffset)
		if err != nil {
			resp.ErrorCode = errorCode(err)
		} else {
			// Its death closes this connection: the controller then
			// probes it instead of waiting for the session timeout.
			b.Sessions.WatchConn(r.Ctx, model.NodeID(req.BrokerID))
		}
		resp.IsFenced, resp.IsCaughtUp = fenced, !fenced
		return resp
	})
}

// handleAlterPartition (key 56): leaders' ISR proposals, each checked
// and committed by the controller (controller/alter_partition.go). The
// answer carries the partition as it is after the request.
func handleAlterPartition(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.AlterPartitionRequest)
	resp := kmsg.NewPtrAlterPartitionResponse()
	resp.SetVersion(req.GetVersion())
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, 30*time.Second)
		defer cancel()
		for _, rt := range req.Topics {
			st := kmsg.NewAlterPartitionResponseTopic()
			st.Topic, st.TopidID = rt.Topic, rt.TopicID
			id := model.TopicID(rt.TopicID)
			if req.GetVersion() < 2 {
				if t := b.Metadata.Current().Topics[rt.Topic]; t != nil {
					id = t.ID
				}
			}
			for _, rp := range rt.Partitions {
				u := controller.ISRUpdate{Broker: model.NodeID(req.BrokerID), TopicID: id, Partition: rp.Partition,
					LeaderEpoch: model.LeaderEpoch(rp.LeaderEpoch), PartitionEpoch: rp.PartitionEpoch, BrokerEpoch: req.BrokerEpoch, Recovering: rp.LeaderRecoveryState == 1}
				for _, n := range rp.NewISR {
					u.ISR = append(u.ISR, model.NodeID(n))
					u.BrokerEpochs = append(u.BrokerEpochs, -1)
				}
				for _, e := range rp.NewEpochISR {
					u.ISR = append(u.ISR, model.NodeID(e.BrokerID))
					u.BrokerEpochs = append(u.BrokerEpochs, int64(e.BrokerEpoch))
				}
				sp := kmsg.NewAlterPartitionResponseTopicPartition()
				sp.Partition = rp.Partition
				code, err := b.Controller.AlterPartition(ctx, u)
				switch {
				case err != nil:
					sp.ErrorCode = controllerErrorCode(err)
				case code != nil:
					sp.ErrorCode = code.Code
				}
				if t := b.Metadata.Current().TopicIDs[id]; t != nil && int(rp.Partition) < len(t.Partitions) && rp.Partition >= 0 {
					p := t.Partitions[rp.Partition]
					sp.LeaderID, sp.LeaderEpoch, sp.PartitionEpoch = int32(p.Leader), int32(p.LeaderEpoch), p.Epoch
					if p.Recovering {
						sp.LeaderRecoveryState = 1
					}
					for _, n := range p.ISR {
						sp.ISR = append(sp.ISR, int32(n))
					}
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	})
}
