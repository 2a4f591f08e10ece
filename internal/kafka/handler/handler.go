// Package handler answers Kafka requests: one file per API, named by API
// key (00_produce.go, 01_fetch.go, ...), and apis.go, the explicit table
// that ApiVersions advertises and Handle dispatches on.
//
// A handler runs on the connection's reader goroutine, in request order,
// so the effects of pipelined requests (appends above all) happen in the
// order the client sent them. A handler that must wait (acks=all, a
// long-poll fetch, a controller write) returns a Reply that completes
// later; the connection writes replies strictly in request order.
//
// A panic in handler code fails only its request, with
// UNKNOWN_SERVER_ERROR in the shape of its API (panic.go,
// error_response.go); the connection and the broker keep serving.
//
// Broker is safe for concurrent use; handlers keep no state of their own.
package handler

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cluster"
	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/kafka/fetchsession"
	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/producerid"
)

// Settings are the broker settings handlers read.
type Settings struct {
	NodeID            model.NodeID
	AutoCreateTopics  bool
	NumPartitions     int32
	ReplicationFactor int16
	// FetchMaxBytes is fetch.max.bytes: no fetch response carries more
	// (but the first batch, KIP-74); 0 means no cap.
	FetchMaxBytes int32
	// FetchSessionSlots is max.incremental.fetch.session.cache.slots:
	// the node's FetchSessions cache holds this many sessions.
	FetchSessionSlots int
	// Config is the broker's static configuration (file and flags); the
	// dynamic layers come from the metadata image. Nil means the
	// zero-config defaults. DescribeConfigs describes it; DeleteTopics
	// reads delete.topic.enable from it.
	Config *config.Broker
	// LogDir is the data directory DescribeLogDirs reports.
	LogDir string
	// Endpoint is the listener served: the client listener's APIs or the
	// CONTROLLER listener's.
	Endpoint Endpoint
	// ControllerID is the node id Metadata and DescribeCluster name as
	// the controller (-1 unknown).
	ControllerID model.NodeID
}

// Broker is what handlers act on. Safe for concurrent use.
type Broker struct {
	Settings   Settings
	Metadata   *metadata.Publisher
	Controller controller.API
	// Sessions keeps the brokers' heartbeats: on the CONTROLLER listener
	// of the active controller only.
	Sessions *controller.Sessions
	// Quorum describes the metadata quorum (DescribeQuorum) on a voter's
	// CONTROLLER listener.
	Quorum   QuorumView
	Replicas *cluster.Replicas
	Groups   *group.Coordinator
	// Txns is the transaction coordinator; nil answers transactional
	// requests with COORDINATOR_NOT_AVAILABLE.
	Txns *txn.Coordinator
	// ProducerIDs hands out producer ids (InitProducerId). Nil: a manager
	// taking blocks from Controller for Settings.NodeID is made on first
	// use (producer_ids.go).
	ProducerIDs *producerid.Manager
	// FetchSessions keeps incremental fetch sessions (KIP-227); nil
	// answers every fetch in full with session id 0.
	FetchSessions *fetchsession.Cache
	Log           *slog.Logger
	Now           func() time.Time

	defaultPIDs     sync.Once
	defaultPIDsImpl *producerid.Manager // set once by defaultPIDs
}

// Request is one decoded request and where it came from.
type Request struct {
	// Ctx ends when the connection closes: waits give up then.
	Ctx    context.Context
	Header wire.RequestHeader
	Msg    kmsg.Request
	Conn   *ConnInfo
}

// ConnInfo describes the client connection.
type ConnInfo struct {
	Remote   string
	Listener string
}

// Reply is a handler's answer. A nil *Reply means no response at all
// (Produce with acks=0). Safe for concurrent use: one goroutine completes
// it, the connection writer waits on Done.
type Reply struct {
	done chan struct{}
	msg  kmsg.Response
	// body replaces msg for responses encoded by the handler itself, such
	// as Fetch, whose record bytes go from segment files to the socket
	// with sendfile.
	body     *wire.Body
	flexible bool
	// closeConn: no response; the connection closes once the replies
	// before this one are written (CloseConnection).
	closeConn bool
	// late is set on replies that complete after Handle returns (Later, a
	// waiting fetch): what a panic that fails them needs (panic.go). It
	// lives in the same allocation as the reply.
	late *lateState
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Now is a reply that is ready.
func Now(m kmsg.Response) *Reply { return &Reply{done: closedChan, msg: m} }

// Later runs f on its own goroutine; the reply is ready when f returns.
// A panic in f fails the reply with UNKNOWN_SERVER_ERROR (panic.go).
func Later(f func() kmsg.Response) *Reply {
	lr := &struct {
		Reply
		late lateState
	}{}
	r := &lr.Reply
	r.done, r.late = make(chan struct{}), &lr.late
	go func() {
		defer r.recoverLater()
		hook("later")
		r.msg = f()
		close(r.done)
	}()
	return r
}

// NowBody is a ready reply with a pre-encoded body.
func NowBody(body *wire.Body, flexible bool) *Reply {
	return &Reply{done: closedChan, body: body, flexible: flexible}
}

// CloseConnection is the reply to a request that gets no response but
// must end its connection, once the replies before it are written: an
// acks=0 produce that failed, so that the client, which hears nothing
// else, refreshes its metadata (Kafka's closeConnection).
func CloseConnection() *Reply { return &Reply{done: closedChan, closeConn: true} }

// Body is the pre-encoded body, or nil when Msg is the response; valid
// after Done. FlexibleHeader says whether its header carries tagged
// fields.
func (r *Reply) Body() (body *wire.Body, flexibleHeader bool) {
	if r.failed() {
		return nil, false
	}
	return r.body, r.flexible
}

// Done is closed once the response is ready.
func (r *Reply) Done() <-chan struct{} { return r.done }

// Msg is the response; valid after Done. A reply failed by a panic
// answers UNKNOWN_SERVER_ERROR in the shape of its API.
func (r *Reply) Msg() kmsg.Response {
	if r.failed() {
		return errorResponse(r.late.req, kerr.UnknownServerError)
	}
	return r.msg
}

// ClosesConnection reports whether the connection must close once the
// replies before this one are written; such a reply has no response.
func (r *Reply) ClosesConnection() bool { return r.closeConn }

// Handle dispatches one request. The request's version is within the range
// that Supported reports. A panic in the handler fails only this request
// (panic.go).
func (b *Broker) Handle(req *Request) (reply *Reply) {
	defer func() {
		if v := recover(); v != nil {
			reply = b.recoverHandle(req, v)
		}
	}()
	hook("handle")
	reply = table(b.Settings.Endpoint)[req.Header.APIKey].handle(b, req)
	if reply != nil && reply.late != nil {
		reply.late.req, reply.late.b = req.Msg, b
		reply.settle() // it may fail from now on, or may have failed
	}
	return reply
}

// Supported reports whether key at version is served on the client
// listener.
func Supported(key, version int16) bool { return SupportedAt(ClientEndpoint, key, version) }

// SupportedAt reports whether key at version is served on ep.
func SupportedAt(ep Endpoint, key, version int16) bool {
	t := table(ep)
	if key < 0 || int(key) >= len(t) || t[key].handle == nil {
		return false
	}
	a := t[key]
	return version >= a.min && version <= a.max
}

// Flexible reports whether key at version uses flexible encoding (request
// header v2). Unknown keys are not flexible.
func Flexible(key, version int16) bool {
	r := kmsg.RequestForKey(key)
	if r == nil {
		return false
	}
	r.SetVersion(version)
	return r.IsFlexible()
}
