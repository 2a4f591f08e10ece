// Package fetchsession keeps incremental fetch sessions (KIP-227, Fetch
// v7+): a fetcher that keeps reading the same partitions sends, after a
// first full request, only the partitions whose fetch position changed,
// and the broker answers only the partitions with something new (records,
// an error, or a moved high watermark, last stable offset or log start).
// Idle partitions then cost nothing per fetch, which is what makes a
// follower replicating thousands of partitions, or a consumer assigned
// them, cheap.
//
// The protocol, from the request's session_id and session_epoch:
//   - epoch -1 (FINAL): a full fetch without a session; a session_id
//     other than 0 is closed first.
//   - epoch 0 (INITIAL): a full fetch that opens a session (closing the
//     named one); the answer carries the new session_id, or 0 when the
//     cache has no room, which tells the client to go on with full
//     fetches.
//   - epoch > 0: an incremental fetch of an open session, which must be
//     at the epoch the session expects (INVALID_FETCH_SESSION_EPOCH
//     otherwise; FETCH_SESSION_ID_NOT_FOUND for an unknown session). Its
//     partitions update the session's, forgotten_topics_data removes
//     some, and the fetch reads every partition of the session.
//
// The cache holds max.incremental.fetch.session.cache.slots sessions.
// When full, a new session takes the place of the least recently used
// one idle for EvictAfter, or else of the smallest one if it is smaller
// than the new one (a follower's session, the largest, is kept: Kafka's
// privileged sessions come to the same).
//
// Safe for concurrent use: the cache has one lock, each session its own
// (a session's fetches are sequential, but a long poll may still be
// running when the client, having given up on it, sends the next one).
package fetchsession

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/model"
)

// EvictAfter is how long a session must be unused before a new one may
// take its place in a full cache (Kafka's 2 minutes).
const EvictAfter = 2 * time.Minute

// key names a partition of a session: by topic id from Fetch v13, by
// name before.
type key struct {
	id        model.TopicID
	topic     string
	partition int32
}

// cached is one partition of a session: what the fetcher last asked for
// and what it was last told.
type cached struct {
	key
	req kmsg.FetchRequestTopicPartition
	// sentHW, sentLSO and sentLogStart are the offsets of the last
	// answer that carried the partition; -2 before the first (-1 is a
	// value a partition can answer).
	sentHW, sentLSO, sentLogStart model.Offset
}

// Session is one open fetch session.
type Session struct {
	id int32

	mu       sync.Mutex
	epoch    int32 // the epoch the next incremental fetch must carry
	parts    []*cached
	index    map[key]int
	lastUsed time.Time
}

// Cache holds the open sessions.
type Cache struct {
	slots int
	now   func() time.Time

	mu       sync.Mutex
	sessions map[int32]*Session // guarded by mu
}

// NewCache returns a cache of at most slots sessions (0 keeps none: every
// fetch is a full one). now is the clock, nil for the wall clock.
func NewCache(slots int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{slots: slots, now: now, sessions: map[int32]*Session{}}
}

// Len is the number of open sessions.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// Fetch is one fetch request's use of its session: Begin decides what to
// read and Finish trims the answer. A nil *Fetch is a fetch without a
// session (a full answer with session_id 0).
type Fetch struct {
	s    *Session
	full bool // every partition goes into the answer
}

// Begin applies req's session fields. It returns the fetch (nil without
// a session) and, for an incremental fetch, rewrites req.Topics to every
// partition of the session (with the positions the session holds), so
// the caller reads them as from a full request. A non-zero code is the answer's top-level
// error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH), with
// no partitions.
func (c *Cache) Begin(req *kmsg.FetchRequest) (*Fetch, int16) {
	if c == nil || req.GetVersion() < 7 {
		return nil, 0
	}
	switch {
	case req.SessionEpoch < 0: // FINAL: sessionless
		if req.SessionID != 0 {
			c.remove(req.SessionID)
		}
		return nil, 0
	case req.SessionEpoch == 0: // INITIAL
		if req.SessionID != 0 {
			c.remove(req.SessionID)
		}
		if c.slots <= 0 {
			return nil, 0
		}
		s := newSession(req)
		if !c.add(s) {
			return nil, 0
		}
		return &Fetch{s: s, full: true}, 0
	}
	c.mu.Lock()
	s := c.sessions[req.SessionID]
	c.mu.Unlock()
	if s == nil {
		return nil, kerr.FetchSessionIDNotFound.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.SessionEpoch != s.epoch {
		return nil, kerr.InvalidFetchSessionEpoch.Code
	}
	s.epoch = nextEpoch(s.epoch)
	s.lastUsed = c.now()
	s.updateLocked(req)
	req.Topics = s.requestLocked(req.GetVersion() >= 13)
	return &Fetch{s: s}, 0
}

// Finish sets the answer's session id and, for an incremental fetch,
// drops from resp the partitions with nothing new, then records what the
// kept ones said. resp's topics and partitions are in the order of the
// request Begin returned.
func (f *Fetch) Finish(resp *wire.FetchResponse) {
	if f == nil {
		return
	}
	s := f.s
	resp.SessionID = s.id
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := resp.Topics[:0]
	for _, t := range resp.Topics {
		parts := t.Partitions[:0]
		for _, p := range t.Partitions {
			i, ok := s.index[key{id: t.TopicID, topic: t.Topic, partition: p.Partition}]
			if !ok { // removed meanwhile by a later fetch of the session
				continue
			}
			cp := s.parts[i]
			if !f.full && !news(cp, &p) {
				continue
			}
			cp.sentHW, cp.sentLSO, cp.sentLogStart = p.HighWatermark, p.LastStableOffset, p.LogStartOffset
			parts = append(parts, p)
		}
		clear(t.Partitions[len(parts):]) // dropped partitions' file references must not stay pooled
		if len(parts) > 0 {
			t.Partitions = parts
			kept = append(kept, t)
		}
	}
	clear(resp.Topics[len(kept):])
	resp.Topics = kept
}

// news reports whether an incremental answer must carry p (Kafka's
// CachedPartition.maybeUpdateResponseData).
func news(c *cached, p *wire.FetchPartition) bool {
	return p.ErrorCode != 0 || p.Records.Len > 0 || len(p.RecordsBytes) > 0 ||
		p.HighWatermark != c.sentHW || p.LastStableOffset != c.sentLSO || p.LogStartOffset != c.sentLogStart ||
		p.DivergingEpoch != nil || p.CurrentLeader != nil || p.SnapshotID != nil || p.PreferredReadReplica >= 0
}

// nextEpoch follows epoch, wrapping to 1 (0 and -1 mean INITIAL and
// FINAL).
func nextEpoch(epoch int32) int32 {
	if epoch == math.MaxInt32 {
		return 1
	}
	return epoch + 1
}

func newSession(req *kmsg.FetchRequest) *Session {
	s := &Session{epoch: 1, index: map[key]int{}}
	s.updateLocked(req)
	return s
}

// updateLocked applies an incremental request's partitions and forgotten
// topics (or a full request's partitions). Called under s.mu.
func (s *Session) updateLocked(req *kmsg.FetchRequest) {
	byID := req.GetVersion() >= 13
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			k := topicKey(byID, rt.TopicID, rt.Topic, rp.Partition)
			if i, ok := s.index[k]; ok {
				s.parts[i].req = rp
				continue
			}
			s.index[k] = len(s.parts)
			s.parts = append(s.parts, &cached{key: k, req: rp, sentHW: -2, sentLSO: -2, sentLogStart: -2})
		}
	}
	forgot := false
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			k := topicKey(byID, ft.TopicID, ft.Topic, p)
			if i, ok := s.index[k]; ok {
				s.parts[i] = nil
				delete(s.index, k)
				forgot = true
			}
		}
	}
	if forgot {
		kept := s.parts[:0]
		for _, p := range s.parts {
			if p != nil {
				s.index[p.key] = len(kept)
				kept = append(kept, p)
			}
		}
		clear(s.parts[len(kept):])
		s.parts = kept
	}
}

func topicKey(byID bool, id [16]byte, topic string, partition int32) key {
	if byID {
		return key{id: model.TopicID(id), partition: partition}
	}
	return key{topic: topic, partition: partition}
}

// requestLocked is the session's partitions as a full request's topics:
// consecutive partitions of one topic share an entry. Called under s.mu.
func (s *Session) requestLocked(byID bool) []kmsg.FetchRequestTopic {
	var out []kmsg.FetchRequestTopic
	for _, p := range s.parts {
		if n := len(out); n > 0 && out[n-1].TopicID == p.id && out[n-1].Topic == p.topic {
			out[n-1].Partitions = append(out[n-1].Partitions, p.req)
			continue
		}
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = p.topic, p.id
		if byID {
			rt.Topic = ""
		}
		rt.Partitions = []kmsg.FetchRequestTopicPartition{p.req}
		out = append(out, rt)
	}
	return out
}

// add caches s under a fresh id; false when the cache is full and no
// session may make room. Begin checked that the cache has slots at all.
func (c *Cache) add(s *Session) bool {
	now := c.now()
	s.lastUsed = now
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) >= c.slots && !c.evictLocked(len(s.parts), now) {
		return false
	}
	for {
		id := rand.Int32N(math.MaxInt32-1) + 1 // never 0, which means none
		if c.sessions[id] == nil {
			s.id = id
			c.sessions[id] = s
			return true
		}
	}
}

// evictLocked makes room for a session of size partitions: the least
// recently used session idle for EvictAfter goes, else the smallest one
// if it is smaller. Called under c.mu.
func (c *Cache) evictLocked(size int, now time.Time) bool {
	var lru, smallest *Session
	var lruUsed time.Time
	smallestSize := 0
	for _, s := range c.sessions {
		s.mu.Lock()
		used, n := s.lastUsed, len(s.parts)
		s.mu.Unlock()
		if now.Sub(used) >= EvictAfter && (lru == nil || used.Before(lruUsed)) {
			lru, lruUsed = s, used
		}
		if smallest == nil || n < smallestSize {
			smallest, smallestSize = s, n
		}
	}
	switch {
	case lru != nil:
		delete(c.sessions, lru.id)
	case smallest != nil && smallestSize < size:
		delete(c.sessions, smallest.id)
	default:
		return false
	}
	return true
}

func (c *Cache) remove(id int32) {
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
}
