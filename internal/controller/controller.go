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
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/raft"
)

// Quorum is the replicated metadata log (internal/raft.Node).
type Quorum interface {
	// LeaderTerm is this voter's term while it leads and its image holds
	// everything committed before the term; ok is false otherwise.
	LeaderTerm() (term uint64, ok bool)
	// ProposeInTerm returns after data is committed and applied; it
	// fails with raft.ErrNotLeader when the voter no longer leads in term.
	ProposeInTerm(ctx context.Context, term uint64, data []byte) (uint64, error)
}

// ErrNotActive: this voter is not the active controller (it does not lead
// the quorum, or has not applied its term's first entry yet), so it
// computed nothing; Kafka's NOT_CONTROLLER, which brokers and clients
// retry on the active one.
var ErrNotActive = fmt.Errorf("this node is not the active controller: %w", kerr.NotController)

// ErrDuplicateRegistration: a broker registers a node id whose registered
// process still lives (DUPLICATE_BROKER_REGISTRATION).
var ErrDuplicateRegistration = fmt.Errorf("duplicate broker registration: %w", kerr.DuplicateBrokerRegistration)

// Options are the broker settings operations depend on.
type Options struct {
	NumPartitions            int32
	DefaultReplicationFactor int16
	// ValidateTopicConfigs checks topic config overrides; its error text
	// goes to the client with INVALID_CONFIG.
	ValidateTopicConfigs func(map[string]string) error
	// ValidateBrokerConfigs checks dynamic broker config changes.
	ValidateBrokerConfigs func(map[string]string) error
	// UncleanLeaderElection is unclean.leader.election.enable as it holds
	// for topic t (its override, else the cluster's dynamic default,
	// else the static one); nil is false.
	UncleanLeaderElection func(im *metadata.Image, t *metadata.Topic) bool
	// MinInsyncReplicas is min.insync.replicas as it holds for topic t,
	// which decides its eligible leader replicas (fencing.go); nil is 1.
	MinInsyncReplicas func(im *metadata.Image, t *metadata.Topic) int
}

// Controller writes metadata changes. Safe for concurrent use.
type Controller struct {
	q    Quorum
	pub  *metadata.Publisher
	opts Options
	// sessions, set once by NewSessions before the controller serves,
	// tells Register whether a registered broker's process lives.
	sessions *Sessions

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

// Active reports whether this voter is the active controller now.
func (c *Controller) Active() bool {
	_, ok := c.q.LeaderTerm()
	return ok
}

// run computes records on the latest image with op and writes them as one
// entry. It returns the image after the write (or the unchanged one).
// Only the active controller computes (ErrNotActive otherwise): a voter
// that just won an election computes once its image holds every entry
// committed before its term, and its entry is written only in that term
// (docs/plans/replication.md I6; a stale image could write a second
// TopicRecord of a name, whose apply would stop every voter).
func (c *Controller) run(ctx context.Context, op func(*metadata.Image) []metadata.Record) (*metadata.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	term, ok := c.q.LeaderTerm()
	if !ok {
		return nil, ErrNotActive
	}
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
	if _, err := c.q.ProposeInTerm(context.WithoutCancel(ctx), term, data); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			// Lost: the entry may still commit under the next leader,
			// as a Kafka controller that resigns mid-operation.
			return nil, fmt.Errorf("%w (%w)", ErrNotActive, err)
		}
		return nil, err
	}
	return c.pub.Current(), nil
}
