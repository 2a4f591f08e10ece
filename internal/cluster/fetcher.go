package cluster

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/fetchsession"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// Fetchers replicate the partitions this broker follows (Kafka's
// ReplicaFetcherManager and ReplicaFetcherThread): num.replica.fetchers
// goroutines per leader broker, each with its own connection and a share
// of the partitions (by a hash of topic and partition, as Kafka spreads
// them), send Fetch requests as a replica (replica_state with this
// broker's id), from each partition's log end with its last fetched
// epoch, and append what comes back (replica.AppendAsFollower). Before
// its next request a fetcher waits until the appended bytes are fsynced,
// so the fetch offset it reports to the leader, which moves the high
// watermark, is durable here (docs/plans/replication.md, I2), except for
// a topic with sluice.write.caching, whose acks=all waits for no fsync
// anywhere. A diverging epoch in the answer truncates the log to where it
// agrees with the leader's, an offset out of range resets it from the
// leader's log start or end. FENCED_LEADER_EPOCH (this broker's image is
// behind the leader's) and a failed log (a full disk) park the partition
// until the next image assigns it again; the leader not knowing yet that
// it leads (NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH) is retried
// after replica.fetch.backoff.ms.
//
// Safe for concurrent use. Follow and Unfollow never block: Reconcile
// calls them inside the metadata apply.
type Fetchers struct {
	self model.NodeID
	pub  *metadata.Publisher
	log  *slog.Logger
	// MaxWait, MaxBytes, PartitionMaxBytes and Backoff are
	// replica.fetch.wait.max.ms, replica.fetch.response.max.bytes,
	// replica.fetch.max.bytes and replica.fetch.backoff.ms.
	opts FetcherOptions

	epoch brokerEpochSource // this broker's epoch for replica_state (SetBrokerEpoch)

	mu      sync.Mutex
	sources map[fetcherKey]*sourceFetcher // guarded by mu
	closed  bool
	wg      sync.WaitGroup
}

// fetcherKey names a source fetcher: its leader and its slot among the
// num.replica.fetchers that fetch from that leader.
type fetcherKey struct {
	leader model.NodeID
	slot   int
}

// FetcherOptions are Kafka's replica.fetch.* settings.
type FetcherOptions struct {
	NumFetchers       int           // num.replica.fetchers; < 1 is 1
	MinBytes          int32         // replica.fetch.min.bytes
	MaxWait           time.Duration // replica.fetch.wait.max.ms
	MaxBytes          int32         // replica.fetch.response.max.bytes
	PartitionMaxBytes int32         // replica.fetch.max.bytes
	Backoff           time.Duration // replica.fetch.backoff.ms
}

// DefaultFetcherOptions are Kafka's defaults.
func DefaultFetcherOptions() FetcherOptions {
	return FetcherOptions{NumFetchers: 1, MinBytes: 1, MaxWait: 500 * time.Millisecond, MaxBytes: 10 << 20, PartitionMaxBytes: 1 << 20, Backoff: time.Second}
}

// NewFetchers returns fetchers for broker self, which find leaders in
// pub's image.
func NewFetchers(self model.NodeID, pub *metadata.Publisher, opts FetcherOptions, log *slog.Logger) *Fetchers {
	return &Fetchers{self: self, pub: pub, opts: opts, log: log, sources: map[fetcherKey]*sourceFetcher{}}
}

// SetBrokerEpoch makes the fetches carry epoch() as their replica_state
// broker epoch (KIP-903: a leader refuses the fetches of a process older
// than one it has seen); without it they carry -1.
func (f *Fetchers) SetBrokerEpoch(epoch func() int64) { f.epoch.set(epoch) }

// slot is the fetcher of its leader that replicates tp.
func slot(tp model.TopicPartition, fetchers int) int {
	if fetchers <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(tp.Topic))
	return int((h.Sum32()*31 + uint32(tp.Partition)) % uint32(fetchers))
}

// followed is one partition a source fetcher replicates.
type followed struct {
	part   *replica.Partition
	epoch  model.LeaderEpoch // the leader epoch it was assigned under
	parked bool              // the leader said the leadership moved: wait for metadata
}

// sourceFetcher replicates its share of the partitions led by one broker.
type sourceFetcher struct {
	key   fetcherKey // key.leader is the broker it fetches from
	mu    sync.Mutex
	parts map[model.TopicPartition]*followed // guarded by mu
	kick  chan struct{}                      // a partition was added
	// session is the fetch session with the leader (KIP-227): after a
	// full fetch, a request names only the partitions whose position
	// moved, and the answer only those with news. Used by run only.
	session fetchsession.Client
	ctx     context.Context
	cancel  context.CancelFunc
}

// Follow makes part replicate from leader under epoch (replacing any
// earlier assignment of the partition).
func (f *Fetchers) Follow(part *replica.Partition, leader model.NodeID, epoch model.LeaderEpoch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	key := fetcherKey{leader: leader, slot: slot(part.TP, f.opts.NumFetchers)}
	for k, s := range f.sources {
		if k != key {
			f.dropLocked(s, part.TP)
		}
	}
	if leader < 0 {
		return
	}
	s := f.sources[key]
	if s == nil {
		ctx, cancel := context.WithCancel(context.Background())
		s = &sourceFetcher{key: key, parts: map[model.TopicPartition]*followed{}, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
		f.sources[key] = s
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.run(s)
		}()
	}
	s.mu.Lock()
	s.parts[part.TP] = &followed{part: part, epoch: epoch}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Unfollow stops replicating tp (this broker leads it now, or no longer
// hosts it).
func (f *Fetchers) Unfollow(tp model.TopicPartition) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sources {
		f.dropLocked(s, tp)
	}
}

// dropLocked removes tp from s and stops s when it has nothing left.
// Called under f.mu.
func (f *Fetchers) dropLocked(s *sourceFetcher, tp model.TopicPartition) {
	s.mu.Lock()
	delete(s.parts, tp)
	empty := len(s.parts) == 0
	s.mu.Unlock()
	if empty {
		s.cancel()
		delete(f.sources, s.key)
	}
}

// Close stops every fetcher and waits for them.
func (f *Fetchers) Close() {
	f.mu.Lock()
	f.closed = true
	for id, s := range f.sources {
		s.cancel()
		delete(f.sources, id)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// run is one source fetcher's loop.
func (f *Fetchers) run(s *sourceFetcher) {
	var cl *kgo.Client
	var addr string
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for s.ctx.Err() == nil {
		b := f.pub.Current().Brokers[s.key.leader]
		if b == nil {
			f.pause(s, f.opts.Backoff)
			continue
		}
		if a := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))); cl == nil || a != addr {
			if cl != nil {
				cl.Close()
			}
			var err error
			s.session.Reset()
			if cl, err = kgo.NewClient(kgo.SeedBrokers(a), kgo.RetryTimeout(0)); err != nil {
				f.log.Error("replica fetcher client", "leader", s.key.leader, "err", err)
				cl = nil
				f.pause(s, f.opts.Backoff)
				continue
			}
			addr = a
		}
		if !f.round(s, cl) {
			f.pause(s, f.opts.Backoff)
		}
	}
}

// pause waits d, a new partition or the end.
func (f *Fetchers) pause(s *sourceFetcher, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
	case <-s.kick:
	case <-t.C:
	}
}

// round sends one fetch for s's active partitions and applies the
// answer; false asks for a back-off (an error, or nothing to fetch).
func (f *Fetchers) round(s *sourceFetcher, cl *kgo.Client) bool {
	s.mu.Lock()
	var active []*followed
	for _, p := range s.parts {
		if !p.parked {
			active = append(active, p)
		}
	}
	s.mu.Unlock()
	if len(active) == 0 {
		return false
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaState.ID, req.ReplicaState.Epoch = int32(f.self), f.epoch.get()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = int32(f.opts.MaxWait/time.Millisecond), f.opts.MinBytes, f.opts.MaxBytes
	topics := map[model.TopicID]*kmsg.FetchRequestTopic{}
	var order []model.TopicID
	byName := map[model.TopicPartition]*followed{}
	byID := map[idPartition]*followed{}
	for _, p := range active {
		t := topics[p.part.TopicID]
		if t == nil {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = p.part.TP.Topic, p.part.TopicID
			t = &rt
			topics[p.part.TopicID] = t
			order = append(order, p.part.TopicID)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = p.part.TP.Partition, int32(p.epoch)
		rp.FetchOffset, rp.LogStartOffset = int64(p.part.LogEndOffset()), int64(p.part.LogStartOffset())
		rp.LastFetchedEpoch, rp.PartitionMaxBytes = int32(p.part.LatestEpoch()), f.opts.PartitionMaxBytes
		t.Partitions = append(t.Partitions, rp)
		byName[p.part.TP] = p
		byID[idPartition{p.part.TopicID, p.part.TP.Partition}] = p
	}
	want := make([]kmsg.FetchRequestTopic, 0, len(order))
	for _, id := range order {
		want = append(want, *topics[id])
	}
	s.session.Build(req, want)
	ctx, cancel := context.WithTimeout(s.ctx, f.opts.MaxWait+30*time.Second)
	defer cancel()
	m, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		s.session.Reset()
		if s.ctx.Err() == nil {
			f.log.Debug("replica fetch", "leader", s.key.leader, "err", err)
		}
		return false
	}
	resp := m.(*kmsg.FetchResponse)
	s.session.Handle(resp)
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case errors.Is(err, kerr.FetchSessionIDNotFound), errors.Is(err, kerr.InvalidFetchSessionEpoch):
		// The leader dropped the session (a restart, an eviction): the
		// next request, a full one, opens another at once.
		f.log.Debug("replica fetch session reset", "leader", s.key.leader, "err", err)
		return true
	case err != nil:
		f.log.Warn("replica fetch", "leader", s.key.leader, "err", err)
		return false
	}
	nowMs := time.Now().UnixMilli()
	var appended []*replica.Partition
	ok := true
	for _, rt := range resp.Topics {
		for i := range rt.Partitions {
			sp := &rt.Partitions[i]
			p := byID[idPartition{model.TopicID(rt.TopicID), sp.Partition}]
			if rt.Topic != "" {
				p = byName[model.TopicPartition{Topic: rt.Topic, Partition: sp.Partition}]
			}
			if p == nil {
				continue
			}
			if grew, good := f.apply(s, cl, p, sp, nowMs); grew {
				appended = append(appended, p.part)
			} else if !good {
				ok = false
			}
		}
	}
	// I2: what this broker reports next must be on its disk, unless the
	// topic caches writes (sluice.write.caching: as Kafka, whose
	// followers never fsync before they report).
	for _, part := range appended {
		if part.Config().WriteCaching {
			continue
		}
		if err := part.Log().WaitDurable(s.ctx, part.LogEndOffset()); err != nil && s.ctx.Err() == nil {
			f.log.Error("replica fsync", "partition", part.TP, "err", err)
			ok = false
		}
	}
	return ok
}

// idPartition names a partition by topic id (Fetch v13+ answers).
type idPartition struct {
	id        model.TopicID
	partition int32
}

// apply handles one partition of a fetch answer. It reports whether the
// log grew and whether the partition is healthy (false backs off).
func (f *Fetchers) apply(s *sourceFetcher, cl *kgo.Client, p *followed, sp *kmsg.FetchResponseTopicPartition, nowMs int64) (grew, ok bool) {
	switch err := kerr.ErrorForCode(sp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.OffsetOutOfRange):
		return false, f.reset(s, cl, p)
	case errors.Is(err, kerr.FencedLeaderEpoch):
		// This broker's image is older than the leader's: the next one
		// assigns the partition again.
		s.mu.Lock()
		p.parked = true
		s.mu.Unlock()
		return false, true
	case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.UnknownLeaderEpoch),
		errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		// The leader has not applied the image that made it leader yet:
		// try again after the back-off.
		return false, false
	default:
		f.log.Warn("replica fetch", "partition", p.part.TP, "err", err)
		return false, false
	}
	if de := sp.DivergingEpoch; de.EndOffset >= 0 {
		return false, f.truncate(p, model.LeaderEpoch(de.Epoch), model.Offset(de.EndOffset))
	}
	before := p.part.LogEndOffset()
	err := p.part.AppendAsFollower(replica.FollowerData{LeaderEpoch: p.epoch, Batches: sp.RecordBatches,
		HighWatermark: model.Offset(sp.HighWatermark), LogStart: model.Offset(sp.LogStartOffset)}, nowMs)
	if errors.Is(err, replica.ErrStaleLeaderEpoch) {
		return false, true // the assignment changed under this round
	}
	if errors.Is(err, storage.ErrLogFailed) {
		// Its disk failed (full, or an I/O error): it stops replicating
		// and leaves the ISR; a restart after the disk is fixed recovers
		// the log. It is tried again when an image assigns it anew.
		f.log.Error("replica stopped: its log failed", "partition", p.part.TP, "err", err)
		s.mu.Lock()
		p.parked = true
		s.mu.Unlock()
		return false, true
	}
	if err != nil {
		f.log.Error("replica append", "partition", p.part.TP, "err", err)
		return false, false
	}
	return p.part.LogEndOffset() > before, true
}

// truncate cuts a diverged log to where it agrees with the leader's
// (Kafka's getOffsetTruncationState): the leader's end of that epoch when
// this log knows the epoch too, else this log's end of the largest epoch
// below it, after which the next fetch asks again.
func (f *Fetchers) truncate(p *followed, epoch model.LeaderEpoch, leaderEnd model.Offset) bool {
	to := leaderEnd
	if epoch >= 0 {
		e, end := p.part.Log().EndOffsetForEpoch(epoch)
		switch {
		case e < 0:
			to = min(leaderEnd, p.part.LogEndOffset())
		case e != epoch:
			to = end
		default:
			to = min(leaderEnd, end)
		}
	}
	to = min(to, p.part.LogEndOffset())
	f.log.Info("truncating diverged replica", "partition", p.part.TP, "to", to, "leader_epoch", epoch, "leader_end", leaderEnd)
	if err := p.part.TruncateTo(to); err != nil {
		f.log.Error("replica truncation", "partition", p.part.TP, "err", err)
		return false
	}
	return true
}

// reset handles OFFSET_OUT_OF_RANGE (Kafka's fetchOffsetAndTruncate): a
// leader whose log ends below ours truncates ours to its end; one whose
// log starts above our end restarts ours there.
func (f *Fetchers) reset(s *sourceFetcher, cl *kgo.Client, p *followed) bool {
	latest, err1 := f.listOffset(s, cl, p, -1)
	earliest, err2 := f.listOffset(s, cl, p, -2)
	if err := errors.Join(err1, err2); err != nil {
		f.log.Warn("replica offset reset", "partition", p.part.TP, "err", err)
		return false
	}
	end := p.part.LogEndOffset()
	switch {
	case latest < end:
		err1 = p.part.TruncateTo(latest)
	case earliest > end:
		err1 = p.part.TruncateFullyAndStartAt(earliest)
	}
	if err1 != nil {
		f.log.Error("replica offset reset", "partition", p.part.TP, "err", err1)
		return false
	}
	return true
}

// listOffset asks the leader for a partition's latest (-1) or earliest
// (-2) offset as a replica.
func (f *Fetchers) listOffset(s *sourceFetcher, cl *kgo.Client, p *followed, ts int64) (model.Offset, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = int32(f.self)
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = p.part.TP.Topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.Timestamp = p.part.TP.Partition, int32(p.epoch), ts
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	m, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return 0, err
	}
	resp := m.(*kmsg.ListOffsetsResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return 0, errors.New("malformed ListOffsets answer")
	}
	sp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		return 0, err
	}
	return model.Offset(sp.Offset), nil
}
