package txn

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// The transaction protocol across brokers: markers for partitions led by
// another broker go there as WriteTxnMarkers (Kafka's
// TransactionMarkerChannelManager), and a leader verifying or adding its
// partition for a transaction coordinated elsewhere asks that broker with
// AddPartitionsToTxn v4+ (KIP-890), both on the brokers' client listeners.

// peers holds one client per broker address. Safe for concurrent use.
type peers struct {
	mu      sync.Mutex
	clients map[string]*kgo.Client // guarded by mu
}

// request sends req to broker id of im.
func (p *peers) request(ctx context.Context, im *metadata.Image, id model.NodeID, req kmsg.Request) (kmsg.Response, error) {
	b := im.Brokers[id]
	if b == nil {
		return nil, fmt.Errorf("broker %d: %w", id, kerr.NotLeaderForPartition)
	}
	addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	p.mu.Lock()
	if p.clients == nil {
		p.clients = map[string]*kgo.Client{}
	}
	cl := p.clients[addr]
	if cl == nil {
		var err error
		if cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryTimeout(0)); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.clients[addr] = cl
	}
	p.mu.Unlock()
	return cl.SeedBrokers()[0].Request(ctx, req)
}

// close closes every client.
func (p *peers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cl := range p.clients {
		cl.Close()
	}
	p.clients = nil
}

// RemoteMarkers writes markers to the partitions this broker leads
// through Local and sends the others to their leaders. Safe for
// concurrent use.
type RemoteMarkers struct {
	Local *LocalMarkers
	peers peers
}

// WriteMarkers writes m to every partition of m, here or at its leader.
func (r *RemoteMarkers) WriteMarkers(ctx context.Context, m Marker) []error {
	im := r.Local.Metadata.Current()
	errs := make([]error, len(m.Partitions))
	local := m
	local.Partitions = nil
	var localIdx []int
	remote := map[model.NodeID][]int{}
	for i, tp := range m.Partitions {
		t := im.Topics[tp.Topic]
		if t == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions) || t.Partitions[tp.Partition].Leader == r.Local.NodeID {
			local.Partitions = append(local.Partitions, tp)
			localIdx = append(localIdx, i)
			continue
		}
		leader := t.Partitions[tp.Partition].Leader
		remote[leader] = append(remote[leader], i)
	}
	var wg sync.WaitGroup
	for leader, idx := range remote {
		wg.Go(func() { r.send(ctx, im, leader, m, idx, errs) })
	}
	if len(local.Partitions) > 0 {
		for j, err := range r.Local.WriteMarkers(ctx, local) {
			errs[localIdx[j]] = err
		}
	}
	wg.Wait()
	return errs
}

// send writes the markers of m's partitions idx to leader.
func (r *RemoteMarkers) send(ctx context.Context, im *metadata.Image, leader model.NodeID, m Marker, idx []int, errs []error) {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = int64(m.ProducerID), int16(m.ProducerEpoch), m.Commit, m.CoordinatorEpoch
	tps := make([]model.TopicPartition, len(idx))
	for k, i := range idx {
		tps[k] = m.Partitions[i]
	}
	for _, g := range byTopic(tps) {
		t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		t.Topic, t.Partitions = g.topic, g.partitions
		mk.Topics = append(mk.Topics, t)
	}
	req.Markers = append(req.Markers, mk)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := r.peers.request(sctx, im, leader, req)
	codes := map[model.TopicPartition]int16{}
	if err == nil {
		for _, rm := range resp.(*kmsg.WriteTxnMarkersResponse).Markers {
			for _, t := range rm.Topics {
				for _, p := range t.Partitions {
					codes[model.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.ErrorCode
				}
			}
		}
	}
	for _, i := range idx {
		tp := m.Partitions[i]
		code, answered := codes[tp]
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("marker for %s at broker %d: %w", tp, leader, err)
		case !answered:
			errs[i] = fmt.Errorf("marker for %s at broker %d: %w", tp, leader, kerr.UnknownServerError)
		case code != 0:
			errs[i] = fmt.Errorf("marker for %s at broker %d: %w", tp, leader, kerr.ErrorForCode(code))
		}
	}
}

// topicGroup is the partitions of one topic, for a request.
type topicGroup struct {
	topic      string
	partitions []int32
}

// byTopic groups tps by topic, in order of first appearance.
func byTopic(tps []model.TopicPartition) []topicGroup {
	var out []topicGroup
	at := map[string]int{}
	for _, tp := range tps {
		j, ok := at[tp.Topic]
		if !ok {
			j = len(out)
			at[tp.Topic] = j
			out = append(out, topicGroup{topic: tp.Topic})
		}
		out[j].partitions = append(out[j].partitions, tp.Partition)
	}
	return out
}

// Close closes the connections to other brokers.
func (r *RemoteMarkers) Close() { r.peers.close() }

// addPartitionsRemote asks the coordinator of id on another broker to add
// (or, verifyOnly, verify) tps (AddPartitionsToTxn v4+). Codes per
// partition, in order; NOT_COORDINATOR when no broker coordinates id.
func (c *Coordinator) addPartitionsRemote(id string, pid model.ProducerID, epoch model.ProducerEpoch, tps []model.TopicPartition, verifyOnly bool) []int16 {
	fail := func(code int16) []int16 {
		out := make([]int16, len(tps))
		for i := range out {
			out[i] = code
		}
		return out
	}
	im := c.deps.Metadata.Current()
	t := im.Topics[model.TransactionStateTopic]
	if t == nil || len(t.Partitions) == 0 {
		return fail(codeNotCoordinator)
	}
	leader := t.Partitions[Partition(id, int32(len(t.Partitions)))].Leader
	if leader < 0 || leader == c.opts.NodeID {
		return fail(codeNotCoordinator)
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = id, int64(pid), int16(epoch), verifyOnly
	for _, g := range byTopic(tps) {
		rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		rt.Topic, rt.Partitions = g.topic, g.partitions
		tx.Topics = append(tx.Topics, rt)
	}
	req.Transactions = append(req.Transactions, tx)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := c.remote.peers.request(ctx, im, leader, req)
	if err != nil {
		return fail(codeCoordinatorNotAvailable)
	}
	resp := m.(*kmsg.AddPartitionsToTxnResponse)
	if resp.ErrorCode != 0 {
		return fail(resp.ErrorCode)
	}
	codes := map[model.TopicPartition]int16{}
	for _, rtx := range resp.Transactions {
		for _, rt := range rtx.Topics {
			for _, p := range rt.Partitions {
				codes[model.TopicPartition{Topic: rt.Topic, Partition: p.Partition}] = p.ErrorCode
			}
		}
	}
	out := make([]int16, len(tps))
	for i, tp := range tps {
		code, ok := codes[tp]
		if !ok {
			code = codeCoordinatorNotAvailable
		}
		out[i] = code
	}
	return out
}
