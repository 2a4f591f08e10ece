package metadata

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/model"
)

// Listener is told of every new image, in order, before Apply returns and
// before Current returns the new image. prev is the image it replaces.
type Listener func(prev, next *Image)

// Publisher is the metadata state machine under the quorum: it applies
// committed entries into a new Image and publishes it. Apply, Snapshot and
// Restore are called from the quorum's single apply goroutine; Current is
// safe for concurrent use from anywhere.
type Publisher struct {
	cur atomic.Pointer[Image]

	mu        sync.Mutex
	listeners []Listener    // guarded by mu
	applied   chan struct{} // closed and replaced on every apply; guarded by mu
	journal   journal       // the latest entries, for followers (journal.go); guarded by mu
}

// NewPublisher returns a publisher holding the empty image.
func NewPublisher() *Publisher {
	p := &Publisher{applied: make(chan struct{})}
	p.cur.Store(Empty())
	return p
}

// Current returns the latest published image.
func (p *Publisher) Current() *Image { return p.cur.Load() }

// Subscribe adds a listener and calls it once with the current image.
func (p *Publisher) Subscribe(l Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, l)
	l(Empty(), p.cur.Load())
}

// Changed returns a channel closed at the next publish.
func (p *Publisher) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// Apply decodes and applies one committed entry.
func (p *Publisher) Apply(index uint64, data []byte) error {
	recs, err := DecodeEntry(data)
	if err != nil {
		return err
	}
	prev := p.cur.Load()
	next, err := prev.Apply(index, recs)
	if err != nil {
		return err
	}
	p.publish(prev, next, &Entry{Index: index, Data: data})
	return nil
}

// publish runs the listeners and stores next; e is the entry that made
// it (nil for a restore, which resets the journal).
func (p *Publisher) publish(prev, next *Image, e *Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e != nil {
		p.journal.add(*e)
	} else {
		p.journal.reset(next.Index)
	}
	// Listeners first, then the store: a handler that reads Current must
	// never see a partition whose local log the reconciler has not opened
	// yet (a produce would get NOT_LEADER_OR_FOLLOWER, and a client
	// without retries would drop the record).
	for _, l := range p.listeners {
		l(prev, next)
	}
	p.cur.Store(next)
	close(p.applied)
	p.applied = make(chan struct{})
}

// Snapshot encodes the current image.
func (p *Publisher) Snapshot() ([]byte, error) { return json.Marshal(p.cur.Load()) }

// Restore replaces the image with a snapshot taken at index. A snapshot
// that does not describe a consistent image (a topic missing or named
// other than its key, two topics with one id, a broker under another
// id) is refused: readers rely on those invariants.
func (p *Publisher) Restore(index uint64, data []byte) error {
	im := Empty()
	if err := json.Unmarshal(data, im); err != nil {
		return fmt.Errorf("restore metadata snapshot at %d: %w", index, err)
	}
	if err := im.reindex(); err != nil {
		return fmt.Errorf("restore metadata snapshot at %d: %w", index, err)
	}
	im.Index = index
	p.publish(p.cur.Load(), im, nil)
	return nil
}

// reindex rebuilds TopicIDs (not in a snapshot) and checks what a
// snapshot decoded into: no nil maps or entries, keys that match.
func (im *Image) reindex() error {
	if im.Brokers == nil {
		im.Brokers = map[model.NodeID]*Broker{}
	}
	if im.Topics == nil {
		im.Topics = map[string]*Topic{}
	}
	if im.BrokerConfigs == nil {
		im.BrokerConfigs = map[string]map[string]string{}
	}
	for id, b := range im.Brokers {
		if b == nil || b.ID != id {
			return fmt.Errorf("broker %d: %+v", id, b)
		}
	}
	for name, m := range im.BrokerConfigs {
		if m == nil {
			return fmt.Errorf("broker configs of %q: null", name)
		}
	}
	im.TopicIDs = make(map[model.TopicID]*Topic, len(im.Topics))
	for name, t := range im.Topics {
		if t == nil || t.Name != name {
			return fmt.Errorf("topic %q: %+v", name, t)
		}
		if _, dup := im.TopicIDs[t.ID]; dup {
			return fmt.Errorf("topic %q: id %s taken", name, t.ID)
		}
		if t.Configs == nil {
			t.Configs = map[string]string{}
		}
		im.TopicIDs[t.ID] = t
	}
	return nil
}
