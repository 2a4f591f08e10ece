// Package controller is the active controller's logic: it turns admin
// requests (create and delete topics, add partitions, alter configs,
// register brokers) into metadata records and writes them through the
// quorum. Each operation is a pure function of the current image returning
// (records, response); Controller.run serializes them, proposes the records
// as one atomic entry and returns once the entry is applied, so the caller
// sees its own effect in the next image it reads.
//
// Controller is safe for concurrent use; operations run one at a time.
package controller

import (
	"context"
	"errors"
	"sync"

	"github.com/sluice-io/sluice/internal/metadata"
)

// Quorum is the replicated metadata log (internal/raft.Node).
type Quorum interface {
	// Propose returns after data is committed and applied.
	Propose(ctx context.Context, data []byte) (uint64, error)
}

// Options are the broker settings operations depend on.
type Options struct {
	NumPartitions            int32
	DefaultReplicationFactor int16
	// ValidateTopicConfigs checks topic config overrides; its error text
	// goes to the client with INVALID_CONFIG.
	ValidateTopicConfigs func(map[string]string) error
	// ValidateBrokerConfigs checks dynamic broker config changes.
	ValidateBrokerConfigs func(map[string]string) error
}

// Controller writes metadata changes. Safe for concurrent use.
type Controller struct {
	q    Quorum
	pub  *metadata.Publisher
	opts Options

	mu sync.Mutex // serializes operations: the image they compute on is the latest
}

// New returns a controller writing through q and reading pub.
func New(q Quorum, pub *metadata.Publisher, opts Options) *Controller {
	if opts.ValidateTopicConfigs == nil {
		opts.ValidateTopicConfigs = func(map[string]string) error { return nil }
	}
	if opts.ValidateBrokerConfigs == nil {
		opts.ValidateBrokerConfigs = func(map[string]string) error { return nil }
	}
	return &Controller{q: q, pub: pub, opts: opts}
}

// errNoChange lets an operation say it has nothing to write.
var errNoChange = errors.New("no change")

// run computes records on the latest image with op and writes them as one
// entry. It returns the image after the write (or the unchanged one).
func (c *Controller) run(ctx context.Context, op func(*metadata.Image) []metadata.Record) (*metadata.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := op(c.pub.Current())
	if len(recs) == 0 {
		return c.pub.Current(), nil
	}
	data, err := metadata.EncodeEntry(recs)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Once proposed, the entry may commit whatever ctx does: wait for the
	// outcome with mu held, or the next operation would compute on an
	// image without this entry and write records that contradict it (a
	// client closing its connection during a CreateTopics made the next
	// one write a second TopicRecord of the same name, whose apply then
	// stopped the quorum).
	if _, err := c.q.Propose(context.WithoutCancel(ctx), data); err != nil {
		return nil, err
	}
	return c.pub.Current(), nil
}
