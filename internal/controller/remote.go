package controller

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Remote is the controller of a broker that is not a voter (and of a
// voter that is not active): each
// operation is the Kafka request a broker sends to the active controller
// (admin requests forwarded as they came, BrokerRegistration,
// AllocateProducerIds), sent to a voter's CONTROLLER listener, and its
// answer read back into the results the in-process Controller returns.
// Safe for concurrent use.
//
// Like the in-process Controller, an operation returns once its effect is
// in the broker's own image (pub, fed by the metadata follower): after the
// answer it asks the voter for its applied index (ApiVersions'
// finalized-features epoch) and waits for pub to reach it, so a broker
// that creates a topic and then reads its image finds it.
type Remote struct {
	cl   *kgo.Client
	pub  *metadata.Publisher
	hint atomic.Int32 // index of the voter that answered last
}

var _ API = (*Remote)(nil)

// NewRemote talks to the voters at addrs (their CONTROLLER listeners);
// pub is the broker's image, which a metadata follower keeps up to date.
func NewRemote(addrs []string, pub *metadata.Publisher) (*Remote, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RetryTimeout(0))
	if err != nil {
		return nil, err
	}
	return &Remote{cl: cl, pub: pub}, nil
}

// write sends req and waits until the broker's image holds what the
// controller had applied when it answered.
func (r *Remote) write(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	resp, err := r.request(ctx, req)
	if err != nil {
		return nil, err
	}
	av, err := r.request(ctx, kmsg.NewPtrApiVersionsRequest())
	if err != nil {
		return nil, err
	}
	want := uint64(max(av.(*kmsg.ApiVersionsResponse).FinalizedFeaturesEpoch, 0))
	for {
		changed := r.pub.Changed()
		if r.pub.Current().Index >= want {
			return resp, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("controller %s: metadata at %d not yet here: %w", kmsg.NameForKey(req.Key()), want, ctx.Err())
		}
	}
}

// Close closes the connections.
func (r *Remote) Close() { r.cl.Close() }

// request sends req to the active controller: the voter that answered
// last first, then the others; a voter that is down or answers
// NOT_CONTROLLER (not active, or between leaders) passes it on to the
// next, and a round with no active controller is tried again after
// retryBackoff until ctx ends. A NOT_CONTROLLER answer means the voter
// computed nothing, so trying another is safe.
func (r *Remote) request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	voters := r.cl.SeedBrokers()
	if len(voters) == 0 {
		return nil, fmt.Errorf("controller %s: no voter to ask", kmsg.NameForKey(req.Key()))
	}
	var last error
	for {
		first := int(r.hint.Load())
		for i := range voters {
			at := (first + i) % len(voters)
			actx, cancel := context.WithTimeout(ctx, attemptTimeout)
			resp, err := voters[at].Request(actx, req)
			cancel()
			if err == nil && !notController(resp) {
				r.hint.Store(int32(at))
				return resp, nil
			}
			if err == nil {
				err = kerr.NotController
			}
			last = err
		}
		t := time.NewTimer(retryBackoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("controller %s: %w (last answer: %w)", kmsg.NameForKey(req.Key()), ctx.Err(), last)
		}
	}
}

// attemptTimeout bounds one voter's answer, so that a voter that hangs
// (a paused process) passes the turn to the others.
const attemptTimeout = 5 * time.Second

// Ask sends req to the active controller (the quorum's leader) as the
// broker's own requests go, for requests a broker forwards as they came
// (DescribeQuorum).
func (r *Remote) Ask(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return r.request(ctx, req)
}

// retryBackoff paces the rounds over the voters while none is active (an
// election takes about controller.quorum.election.timeout.ms).
const retryBackoff = 100 * time.Millisecond

// notController reports whether a voter's answer is NOT_CONTROLLER for
// the whole request (every item of the request types a broker sends
// fails alike when the voter is not active).
func notController(resp kmsg.Response) bool {
	nc := kerr.NotController.Code
	switch r := resp.(type) {
	case *kmsg.CreateTopicsResponse:
		return len(r.Topics) > 0 && r.Topics[0].ErrorCode == nc
	case *kmsg.DeleteTopicsResponse:
		return len(r.Topics) > 0 && r.Topics[0].ErrorCode == nc
	case *kmsg.CreatePartitionsResponse:
		return len(r.Topics) > 0 && r.Topics[0].ErrorCode == nc
	case *kmsg.AlterConfigsResponse:
		return len(r.Resources) > 0 && r.Resources[0].ErrorCode == nc
	case *kmsg.IncrementalAlterConfigsResponse:
		return len(r.Resources) > 0 && r.Resources[0].ErrorCode == nc
	case *kmsg.UpdateFeaturesResponse:
		return r.ErrorCode == nc
	case *kmsg.AllocateProducerIDsResponse:
		return r.ErrorCode == nc
	case *kmsg.AlterPartitionResponse:
		return r.ErrorCode == nc || (len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 && r.Topics[0].Partitions[0].ErrorCode == nc)
	case *kmsg.BrokerHeartbeatResponse:
		return r.ErrorCode == nc
	case *kmsg.BrokerRegistrationResponse:
		return r.ErrorCode == nc
	case *kmsg.ElectLeadersResponse:
		return r.ErrorCode == nc || (len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 && r.Topics[0].Partitions[0].ErrorCode == nc)
	case *kmsg.DescribeQuorumResponse: // a voter that does not lead
		return r.ErrorCode == nc || (len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 &&
			r.Topics[0].Partitions[0].ErrorCode == kerr.NotLeaderForPartition.Code)
	}
	return false
}

// AskVoters sends req to the first of cl's seed brokers (the voters'
// CONTROLLER listeners) that answers.
func AskVoters(ctx context.Context, cl *kgo.Client, req kmsg.Request) (kmsg.Response, error) {
	last := errors.New("no voter to ask")
	for _, b := range cl.SeedBrokers() {
		resp, err := b.Request(ctx, req)
		if err == nil {
			return resp, nil
		}
		last = err
	}
	return nil, last
}

// errFor is the *kerr.Error of a code, nil for 0; an unknown code is
// UNKNOWN_SERVER_ERROR.
func errFor(code int16) *kerr.Error {
	if code == 0 {
		return nil
	}
	var ke *kerr.Error
	if errors.As(kerr.ErrorForCode(code), &ke) {
		return ke
	}
	return kerr.UnknownServerError
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateTopics forwards req.
func (r *Remote) CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]TopicResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.CreateTopicsResponse)
	out := make([]TopicResult, len(resp.Topics))
	for i, t := range resp.Topics {
		out[i] = TopicResult{Name: t.Topic, ID: model.TopicID(t.TopicID), Err: errFor(t.ErrorCode), Message: deref(t.ErrorMessage),
			NumPartitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor}
	}
	return out, nil
}

// DeleteTopics forwards req.
func (r *Remote) DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) ([]TopicResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.DeleteTopicsResponse)
	out := make([]TopicResult, len(resp.Topics))
	for i, t := range resp.Topics {
		out[i] = TopicResult{Name: deref(t.Topic), ID: model.TopicID(t.TopicID), Err: errFor(t.ErrorCode), Message: deref(t.ErrorMessage)}
	}
	return out, nil
}

// CreatePartitions forwards req.
func (r *Remote) CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) ([]TopicResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.CreatePartitionsResponse)
	out := make([]TopicResult, len(resp.Topics))
	for i, t := range resp.Topics {
		out[i] = TopicResult{Name: t.Topic, Err: errFor(t.ErrorCode), Message: deref(t.ErrorMessage)}
	}
	return out, nil
}

// AlterConfigs forwards req.
func (r *Remote) AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) ([]ConfigResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.AlterConfigsResponse)
	out := make([]ConfigResult, len(resp.Resources))
	for i, c := range resp.Resources {
		out[i] = ConfigResult{Type: c.ResourceType, Name: c.ResourceName, Err: errFor(c.ErrorCode), Message: deref(c.ErrorMessage)}
	}
	return out, nil
}

// IncrementalAlterConfigs forwards req.
func (r *Remote) IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) ([]ConfigResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.IncrementalAlterConfigsResponse)
	out := make([]ConfigResult, len(resp.Resources))
	for i, c := range resp.Resources {
		out[i] = ConfigResult{Type: c.ResourceType, Name: c.ResourceName, Err: errFor(c.ErrorCode), Message: deref(c.ErrorMessage)}
	}
	return out, nil
}

// UpdateFeatures sends an UpdateFeatures request.
func (r *Remote) UpdateFeatures(ctx context.Context, updates []FeatureUpdate, validateOnly bool) (*kerr.Error, string, error) {
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.ValidateOnly, req.TimeoutMillis = validateOnly, 30_000
	for _, u := range updates {
		fu := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
		fu.Feature, fu.MaxVersionLevel, fu.UpgradeType = u.Name, u.Level, u.Type
		req.FeatureUpdates = append(req.FeatureUpdates, fu)
	}
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, "", err
	}
	resp := m.(*kmsg.UpdateFeaturesResponse)
	if e := errFor(resp.ErrorCode); e != nil {
		return e, deref(resp.ErrorMessage), nil
	}
	for _, res := range resp.Results {
		if e := errFor(res.ErrorCode); e != nil {
			return e, deref(res.ErrorMessage), nil
		}
	}
	return nil, "", nil
}

// AllocateProducerIDs sends AllocateProducerIds (KIP-730).
func (r *Remote) AllocateProducerIDs(ctx context.Context, broker model.NodeID, count int) (int64, error) {
	req := kmsg.NewPtrAllocateProducerIDsRequest()
	req.BrokerID, req.BrokerEpoch = int32(broker), -1
	m, err := r.request(ctx, req)
	if err != nil {
		return 0, err
	}
	resp := m.(*kmsg.AllocateProducerIDsResponse)
	if e := errFor(resp.ErrorCode); e != nil {
		return 0, fmt.Errorf("allocate producer ids: %w", e)
	}
	if int(resp.ProducerIDLen) < count {
		return 0, fmt.Errorf("allocate producer ids: a block of %d, want %d", resp.ProducerIDLen, count)
	}
	return resp.ProducerIDStart, nil
}

// AlterPartition sends a leader's ISR proposal (AlterPartition v3, topic
// ids and broker epochs).
func (r *Remote) AlterPartition(ctx context.Context, u ISRUpdate) (*kerr.Error, error) {
	req := kmsg.NewPtrAlterPartitionRequest()
	req.BrokerID, req.BrokerEpoch = int32(u.Broker), u.BrokerEpoch
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = u.TopicID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = u.Partition, int32(u.LeaderEpoch), u.PartitionEpoch
	if u.Recovering {
		rp.LeaderRecoveryState = 1
	}
	for i, id := range u.ISR {
		e := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
		e.BrokerID, e.BrokerEpoch = int32(id), -1
		if i < len(u.BrokerEpochs) {
			e.BrokerEpoch = u.BrokerEpochs[i]
		}
		rp.NewEpochISR = append(rp.NewEpochISR, e)
		rp.NewISR = append(rp.NewISR, int32(id))
	}
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	m, err := r.request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.AlterPartitionResponse)
	if e := errFor(resp.ErrorCode); e != nil {
		return e, nil
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return kerr.UnknownServerError, nil
	}
	return errFor(resp.Topics[0].Partitions[0].ErrorCode), nil
}

// Heartbeat sends BrokerHeartbeat for broker id at broker epoch epoch
// (-1: not known yet); it returns whether the controller has it fenced.
// With shutdown the broker asks to be fenced now: it is stopping.
func (r *Remote) Heartbeat(ctx context.Context, id model.NodeID, epoch int64, shutdown bool) (fenced bool, err error) {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.BrokerID, req.BrokerEpoch, req.CurrentMetadataOffset = int32(id), epoch, int64(r.pub.Current().Index)
	req.WantShutdown = shutdown
	m, err := r.request(ctx, req)
	if err != nil {
		return true, err
	}
	resp := m.(*kmsg.BrokerHeartbeatResponse)
	if e := errFor(resp.ErrorCode); e != nil {
		return true, fmt.Errorf("heartbeat of broker %d: %w", id, e)
	}
	return resp.IsFenced, nil
}

// Register sends BrokerRegistration with the broker's client listener.
func (r *Remote) Register(ctx context.Context, b metadata.BrokerRecord) error {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.BrokerID, req.IncarnationID = int32(b.ID), b.Incarnation
	l := kmsg.NewBrokerRegistrationRequestListener()
	l.Name, l.Host, l.Port = "PLAINTEXT", b.Host, uint16(b.Port)
	req.Listeners = append(req.Listeners, l)
	if b.Rack != "" {
		req.Rack = &b.Rack
	}
	m, err := r.write(ctx, req)
	if err != nil {
		return fmt.Errorf("register broker %d: %w", b.ID, err)
	}
	if e := errFor(m.(*kmsg.BrokerRegistrationResponse).ErrorCode); e != nil {
		return fmt.Errorf("register broker %d: %w", b.ID, e)
	}
	return nil
}

// ElectLeaders forwards req.
func (r *Remote) ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) ([]ElectResult, error) {
	m, err := r.write(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := m.(*kmsg.ElectLeadersResponse)
	var out []ElectResult
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			e := errFor(p.ErrorCode)
			if e == nil {
				e = errFor(resp.ErrorCode)
			}
			out = append(out, ElectResult{Topic: t.Topic, Partition: p.Partition, Err: e, Message: deref(p.ErrorMessage)})
		}
	}
	return out, nil
}
