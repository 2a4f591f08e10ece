// Package node wires one Sluice process together: metadata quorum,
// controller, replicas, Kafka listeners. It builds and starts the parts in
// dependency order and stops them in reverse; it holds no logic of its own.
//
// Node is safe for concurrent use; Close may be called once.
package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cluster"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/kafka/conn"
	"github.com/sluice-io/sluice/internal/kafka/fetchsession"
	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/producerid"
	"github.com/sluice-io/sluice/internal/raft"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// Listener is one Kafka listener: where to bind and what to advertise.
type Listener struct {
	Name           string
	Addr           string // host:port to bind; port 0 picks a free one
	AdvertisedHost string // "" = the bound host
	AdvertisedPort int32  // 0 = the bound port
}

// Options is everything a node needs, already validated.
type Options struct {
	NodeID  model.NodeID
	DataDir string
	// Rack is broker.rack: registered with the broker, it spreads the
	// replicas of new partitions over racks.
	Rack string
	// SessionTimeout and HeartbeatInterval are broker.session.timeout.ms
	// and broker.heartbeat.interval.ms; zero means Kafka's 9 s and 2 s.
	SessionTimeout, HeartbeatInterval time.Duration
	// Fetch are the replica fetchers' settings (replica.fetch.*); zero
	// means Kafka's defaults.
	Fetch cluster.FetcherOptions
	// ControllerVoters, when set, makes the node a broker that is not a
	// voter: it follows the metadata log from these CONTROLLER listeners
	// (host:port) and sends them what it asks of the controller. Empty:
	// the node is a voter.
	ControllerVoters []string
	// Voters are the metadata quorum's voters (controller.quorum.voters)
	// when the node is one of several: each one's node id and CONTROLLER
	// listener, this node's included (its ControllerListener binds
	// there). Empty: the node is the quorum's one voter.
	Voters []raft.Peer
	// ElectionTimeout is controller.quorum.election.timeout.ms; zero
	// means Kafka's second.
	ElectionTimeout time.Duration
	// ControllerListener, when set, is bound too: the CONTROLLER listener,
	// where brokers that are not voters follow the metadata log.
	ControllerListener *Listener
	// MetadataDir holds the metadata log (metadata.log.dir); "" is
	// DataDir.
	MetadataDir     string
	Listener        Listener
	Handler         handler.Settings
	Controller      controller.Options
	MaxRequestBytes int32
	// SocketSendBuffer and SocketReceiveBuffer are socket.send.buffer.bytes
	// and socket.receive.buffer.bytes; 0 or less keeps the OS's sizes.
	SocketSendBuffer, SocketReceiveBuffer int
	// Connections limit the listener's connections (Kafka's
	// max.connections, ...); dynamic values in the metadata image
	// override them (connections.go).
	Connections conn.ConnectionLimits
	// Requests bound the requests read ahead of their replies.
	Requests conn.RequestLimits
	// IdleTimeout is connections.max.idle.ms; negative: never.
	IdleTimeout time.Duration
	// TopicConfig resolves a topic's overrides into a partition config.
	TopicConfig cluster.Resolver
	// SyncFileSystem makes every sync round one shared syncfs of the data
	// directory's file system (sluice.fsync.scope=filesystem).
	SyncFileSystem bool
	// IdleClose is how long a segment's files stay open unused
	// (sluice.log.idle.close.ms); 0 is the default minute, negative
	// closes them only when the process runs out of descriptors or maps.
	IdleClose time.Duration
	// WritebackBytes is sluice.log.writeback.bytes: the step of the
	// writeback pacer (storage.Writeback); 0 leaves writeback to the
	// kernel.
	WritebackBytes int64
	// RetentionCheckInterval is log.retention.check.interval.ms.
	RetentionCheckInterval time.Duration
	// ISRCheckInterval is how often led partitions check for followers
	// out of sync: half of replica.lag.time.max.ms, as Kafka.
	ISRCheckInterval time.Duration
	// HWCheckpointInterval is replica.high.watermark.checkpoint.interval.ms.
	HWCheckpointInterval time.Duration
	// ProducerIDExpirationCheckInterval is
	// producer.id.expiration.check.interval.ms.
	ProducerIDExpirationCheckInterval time.Duration
	// CleanerInterval is how often the log cleaner looks for compacted
	// logs to clean (log.cleaner.backoff.ms); 0 turns it off.
	CleanerInterval time.Duration
	// Groups configures the group coordinator (NodeID and Logger are
	// filled in by Start).
	Groups group.Options
	// Txns configures the transaction coordinator (NodeID and Logger are
	// filled in by Start).
	Txns txn.Options
	Log  *slog.Logger

	// eff is the broker config in force, following the dynamic broker
	// configs of the metadata image (dynamic.go); FromConfig and
	// TestOptions share it with TopicConfig. Nil: Start builds one from
	// Handler.Config.
	eff *effective
}

// Node is a running broker+controller process.
type Node struct {
	opts     Options
	quorum   *raft.Node
	pub      *metadata.Publisher
	replicas *cluster.Replicas
	fss      *storage.FSSync    // nil unless SyncFileSystem
	wb       *storage.Writeback // nil when WritebackBytes is 0
	files    *storage.FileJanitor
	groups   *group.Coordinator
	txns     *txn.Coordinator
	// fetchSessions keeps the client listener's fetch sessions.
	fetchSessions *fetchsession.Cache
	server        *conn.Server
	ctlServer     *conn.Server // nil without Options.ControllerListener
	// ctlListener is the CONTROLLER listener shared with raft's transport
	// (a voter of several), bound before the quorum opens.
	ctlListener net.Listener
	// A broker that is not a voter: its metadata follower and remote
	// controller (nil on a voter).
	fetchers *cluster.Fetchers
	isr      *cluster.ISRProposer
	sessions *controller.Sessions // the active controller's broker sessions (a voter only)
	// local is a voter's own controller, which its CONTROLLER listener
	// serves: one that is not active answers NOT_CONTROLLER there rather
	// than pass requests on (nil on a broker that is not a voter).
	local        *controller.Controller
	follower     *cluster.MetadataFollower
	stopFollower context.CancelFunc
	remote       *controller.Remote
	// heartbeatDone is closed when the heartbeat loop has stopped (a
	// broker that is not a voter; nil before it started).
	heartbeatDone chan struct{}
	incarnation   model.TopicID // this process's registration (register.go)
	epoch         atomic.Int64  // its broker epoch once the image shows it, else -1
	// born and leaseSent make the controller lease (lease.go): when the
	// last heartbeat the controller answered was sent, since born.
	born      time.Time
	leaseSent atomic.Int64
	// connLimits carries dynamic connection limits to the listener
	// (connections.go).
	connLimits chan conn.ConnectionLimits
	stop       chan struct{}
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
}

// Start builds and starts a node; it returns once the listener accepts.
func Start(ctx context.Context, opts Options) (_ *Node, err error) {
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	n := &Node{opts: opts, pub: metadata.NewPublisher(), stop: make(chan struct{}),
		connLimits: make(chan conn.ConnectionLimits, 1)}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if opts.SyncFileSystem {
		if n.fss, err = storage.OpenFSSync(opts.DataDir); err != nil {
			return nil, err
		}
	}
	if opts.WritebackBytes > 0 {
		n.wb = storage.NewWriteback(opts.WritebackBytes)
	}
	// Segments' files are open only while used: partitions cost
	// descriptors and maps by use, not by count (storage/files.go).
	n.files = storage.NewFileJanitor(cmp.Or(opts.IdleClose, time.Minute))
	resolve := func(im *metadata.Image, overrides map[string]string) replica.Config {
		rc := opts.TopicConfig(im, overrides)
		rc.Storage.FSSync = n.fss
		rc.Storage.Writeback = n.wb
		rc.Storage.Janitor = n.files
		return rc
	}
	n.replicas = cluster.New(opts.NodeID, opts.DataDir, resolve, opts.Log)
	// This process's registration: fixed before the fetchers, which read
	// it, start (register.go).
	n.incarnation = model.NewTopicID()
	n.epoch.Store(-1) // until the image shows the registration
	n.born = time.Now()
	n.fetchers = cluster.NewFetchers(opts.NodeID, n.pub, cmp.Or(opts.Fetch, cluster.DefaultFetcherOptions()), opts.Log)
	n.fetchers.SetBrokerEpoch(n.brokerEpoch)
	n.replicas.SetFetchers(n.fetchers)
	n.isr = cluster.NewISRProposer(opts.NodeID, n.replicas, opts.Log)
	n.isr.SetBrokerEpoch(n.brokerEpoch)
	n.replicas.SetISRProposer(n.isr)
	var ctrl controller.API
	if len(opts.ControllerVoters) == 0 {
		ctrl, err = n.startVoter(ctx)
	} else {
		ctrl, err = n.startMetadataFollower(ctx)
	}
	if err != nil {
		return nil, err
	}
	n.isr.SetController(ctrl)
	n.background(n.isr.Run)
	if n.opts.eff == nil {
		n.opts.eff = newEffective(cmp.Or(opts.Handler.Config, config.Default()), opts.NodeID, opts.Log)
	}
	gopts := opts.Groups
	gopts.NodeID, gopts.Logger = opts.NodeID, opts.Log
	n.groups = group.New(gopts, n.pub, n.replicas, ctrl)
	n.groups.Start() // after Reconcile: the replicas of its partitions exist
	pids := producerid.New(func(ctx context.Context, count int) (int64, error) {
		return ctrl.AllocateProducerIDs(ctx, opts.NodeID, count)
	}, producerid.BlockSize)
	topts := opts.Txns
	topts.NodeID, topts.Logger = opts.NodeID, opts.Log
	n.txns = txn.New(topts, txn.Deps{Metadata: n.pub, Replicas: n.replicas, Topics: ctrl, ProducerIDs: pids, Groups: n.groups})
	n.txns.Start()
	n.fetchSessions = fetchsession.NewCache(opts.Handler.FetchSessionSlots, nil)
	n.pub.Subscribe(n.applyDynamic) // after the coordinators exist
	b := &handler.Broker{Settings: opts.Handler, Metadata: n.pub, Controller: ctrl, Quorum: quorumView{n},
		Replicas: n.replicas, Groups: n.groups, Txns: n.txns, ProducerIDs: pids, Log: opts.Log, Now: time.Now,
		FetchSessions: n.fetchSessions}
	n.server, err = conn.Listen(conn.Config{Name: opts.Listener.Name, Addr: opts.Listener.Addr,
		MaxRequestBytes: opts.MaxRequestBytes, Requests: opts.Requests, IdleTimeout: opts.IdleTimeout,
		Connections: opts.Connections, SendBuffer: opts.SocketSendBuffer, ReceiveBuffer: opts.SocketReceiveBuffer}, b, opts.Log)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", opts.Listener.Name, err)
	}
	n.wg.Add(1)
	go n.applyConnectionLimits() // limits pushed since applyDynamic subscribed, and later ones
	// The CONTROLLER listener answers before this node registers: with
	// several voters the registration may go through it (to itself).
	if err := n.listenController(b); err != nil {
		return nil, err
	}
	host, port := advertised(opts.Listener, n.server.Addr())
	if err := n.register(ctx, ctrl, metadata.BrokerRecord{ID: opts.NodeID, Host: host, Port: port, Rack: opts.Rack,
		Incarnation: n.incarnation}); err != nil {
		return nil, err
	}
	if n.remote != nil {
		n.renewLease(time.Since(n.born)) // the registration was answered
		n.replicas.SetLease(n.leaseHeld)
		n.heartbeatDone = make(chan struct{})
		n.background(func(ctx context.Context) {
			defer close(n.heartbeatDone)
			n.heartbeat(ctx)
		})
	}
	if opts.CleanerInterval > 0 {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.clean()
		}()
	}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := n.server.Serve(); err != nil {
			opts.Log.Error("listener stopped", "err", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		n.maintain()
	}()
	return n, nil
}

// advertised is the host and port clients are told to use.
func advertised(l Listener, bound net.Addr) (string, int32) {
	host, portStr, _ := net.SplitHostPort(bound.String())
	port, _ := strconv.Atoi(portStr)
	if l.AdvertisedHost != "" {
		host = l.AdvertisedHost
	} else if h, _, err := net.SplitHostPort(l.Addr); err == nil && h != "" {
		host = h
	}
	if l.AdvertisedPort != 0 {
		port = int(l.AdvertisedPort)
	}
	return host, int32(port)
}

// applyDynamic is the metadata listener for the dynamic broker configs
// the node applies itself (topic defaults reach partitions through the
// resolver; connection limits through the listener).
func (n *Node) applyDynamic(prev, next *metadata.Image) {
	if maps.EqualFunc(prev.BrokerConfigs, next.BrokerConfigs, maps.Equal[map[string]string]) {
		return // also at Subscribe without dynamic configs: the static ones are in force
	}
	cfg := n.opts.eff.forImage(next)
	n.txns.SetVerifyPartitions(cfg.Bool("transaction.partition.verification.enable"))
	n.pushConnectionLimits(cfg)
}

// Partition returns the local replica of tp, or nil (tests look inside).
func (n *Node) Partition(tp model.TopicPartition) *replica.Partition { return n.replicas.Get(tp) }

// FetchSessions is the node's cache of fetch sessions (KIP-227).
func (n *Node) FetchSessions() *fetchsession.Cache { return n.fetchSessions }

// startVoter opens this node's metadata quorum and returns its
// controller once the quorum has a leader: the local one for a quorum of
// one, else a Router to whichever voter is active.
func (n *Node) startVoter(ctx context.Context) (controller.API, error) {
	self := raft.PeerID(n.opts.NodeID)
	cfg := raft.Config{
		ID:            self,
		Dir:           filepath.Join(cmp.Or(n.opts.MetadataDir, n.opts.DataDir), "__cluster_metadata-0"),
		Peers:         []raft.Peer{{ID: self}},
		ElectionTicks: max(int(cmp.Or(n.opts.ElectionTimeout, time.Second)/raft.DefaultTickInterval), 3),
		Logger:        n.opts.Log,
	}
	if len(n.opts.Voters) > 1 {
		if err := n.bindQuorum(&cfg); err != nil {
			return nil, err
		}
	}
	var err error
	n.quorum, err = raft.Open(cfg, n.pub)
	if err != nil {
		return nil, fmt.Errorf("metadata quorum: %w", err)
	}
	// The replicas follow the metadata only from the image Open replayed
	// up to: an older image of the history (a topic since deleted and
	// created again under its name) would have Reconcile find the new
	// topic's log under another topic id and delete it.
	n.pub.Subscribe(n.replicas.Reconcile)
	if len(n.opts.Voters) > 1 {
		n.opts.Log.Info("waiting for the metadata quorum to elect a leader", "voters", n.opts.Voters)
	}
	if _, err := n.quorum.WaitLeader(ctx); err != nil {
		return nil, fmt.Errorf("metadata quorum: %w", err)
	}
	local := controller.New(n.quorum, n.pub, n.opts.Controller)
	n.local = local
	n.sessions = controller.NewSessions(local, n.opts.NodeID, cmp.Or(n.opts.SessionTimeout, 9*time.Second), n.opts.Log)
	n.background(n.sessions.Run)
	if len(n.opts.Voters) <= 1 {
		return local, nil
	}
	addrs := make([]string, len(n.opts.Voters))
	for i, v := range n.opts.Voters {
		addrs[i] = v.Addr
	}
	if n.remote, err = controller.NewRemote(addrs, n.pub); err != nil {
		return nil, err
	}
	return controller.NewRouter(local, n.remote), nil
}

// bindQuorum binds the CONTROLLER listener of a voter of several before
// its quorum opens (the voters elect over it) and gives cfg the voters
// and the TCP transport that shares the listener with Kafka's requests.
func (n *Node) bindQuorum(cfg *raft.Config) error {
	l := n.opts.ControllerListener
	if l == nil {
		return fmt.Errorf("controller.listener.names: a voter of several needs a CONTROLLER listener")
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return fmt.Errorf("listener %s: %w", l.Name, err)
	}
	tr := raft.NewTCPTransport(cfg.ID, n.opts.Voters, n.opts.Log)
	n.ctlListener = raft.SplitListener(ln, tr.Serve, n.opts.Log)
	cfg.Peers, cfg.Transport = n.opts.Voters, tr
	return nil
}

// background runs f until the node closes.
func (n *Node) background(f func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		f(ctx)
	}()
	go func() {
		defer n.wg.Done()
		<-n.stop
		cancel()
	}()
}

// controlledShutdown asks the controller to fence this broker now, so
// that its partitions get new leaders while it still answers (a broker
// that is not a voter; the heartbeat loop has stopped, or its next beat
// would unfence it again). Bounded by the session timeout: a controller
// that does not answer fences it when the session expires anyway.
func (n *Node) controlledShutdown() {
	if n.remote == nil || n.heartbeatDone == nil {
		return
	}
	<-n.heartbeatDone // its last beat is answered
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(n.opts.SessionTimeout, 9*time.Second))
	defer cancel()
	if n.quorum != nil {
		// A voter of several stops waiting once its quorum has no
		// leader (the last voters of a cluster stopped together).
		go func() {
			defer cancel()
			for {
				leader, changed := n.quorum.LeaderWatch()
				if leader == 0 {
					return
				}
				select {
				case <-changed:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if _, err := n.remote.Heartbeat(ctx, n.opts.NodeID, n.brokerEpoch(), true); err != nil {
		n.opts.Log.Warn("controlled shutdown: the controller did not fence this broker; its partitions move when its session expires", "err", err)
	}
}

// heartbeat keeps this broker's session with the controller (a broker
// that is not a voter), every broker.heartbeat.interval.ms.
func (n *Node) heartbeat(ctx context.Context) {
	t := time.NewTicker(cmp.Or(n.opts.HeartbeatInterval, 2*time.Second))
	defer t.Stop()
	for {
		hctx, cancel := context.WithTimeout(ctx, cmp.Or(n.opts.SessionTimeout, 9*time.Second))
		sent := time.Since(n.born)
		fenced, err := n.remote.Heartbeat(hctx, n.opts.NodeID, n.brokerEpoch(), false)
		cancel()
		if err == nil && !fenced {
			n.renewLease(sent)
		}
		if err != nil && ctx.Err() == nil {
			n.opts.Log.Warn("heartbeat to the controller", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startMetadataFollower makes this node a broker that is not a voter: it
// catches up with the voters' metadata log, then follows it in the
// background, and its controller is the voters' (controller.Remote).
func (n *Node) startMetadataFollower(ctx context.Context) (controller.API, error) {
	f, err := cluster.NewMetadataFollower(n.opts.ControllerVoters, n.pub)
	if err != nil {
		return nil, err
	}
	n.follower = f
	n.opts.Log.Info("catching up with the metadata log of the controllers", "voters", n.opts.ControllerVoters)
	if err := f.CatchUp(ctx); err != nil {
		return nil, fmt.Errorf("metadata from the controllers %v: %w", n.opts.ControllerVoters, err)
	}
	n.pub.Subscribe(n.replicas.Reconcile) // from the current image, as a voter after its replay
	fctx, cancel := context.WithCancel(context.Background())
	n.stopFollower = cancel
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := f.Run(fctx); err != nil && fctx.Err() == nil {
			n.opts.Log.Error("metadata follower stopped", "err", err)
		}
	}()
	r, err := controller.NewRemote(n.opts.ControllerVoters, n.pub)
	if err != nil {
		return nil, err
	}
	n.remote = r
	return r, nil
}

// listenController binds the CONTROLLER listener, if configured, serving
// the controller endpoint's APIs with b's settings and metadata.
func (n *Node) listenController(b *handler.Broker) error {
	l := n.opts.ControllerListener
	if l == nil {
		return nil
	}
	settings := b.Settings
	settings.Endpoint = handler.ControllerEndpoint
	cb := &handler.Broker{Settings: settings, Metadata: n.pub, Controller: n.local, Sessions: n.sessions,
		Quorum: quorumView{n}, Log: n.opts.Log, Now: time.Now}
	var err error
	// The broker's connection limits are for clients: the brokers that
	// follow the quorum are never refused.
	n.ctlServer, err = conn.Listen(conn.Config{Name: l.Name, Addr: l.Addr, Listener: n.ctlListener, MaxRequestBytes: n.opts.MaxRequestBytes,
		Requests: n.opts.Requests, IdleTimeout: n.opts.IdleTimeout, Connections: conn.NoConnectionLimits()}, cb, n.opts.Log)
	if err != nil {
		return fmt.Errorf("listener %s: %w", l.Name, err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.ctlServer.Serve(); err != nil {
			n.opts.Log.Error("controller listener stopped", "err", err)
		}
	}()
	return nil
}

// quorumView is the node's metadata quorum for DescribeQuorum.
type quorumView struct{ n *Node }

func (v quorumView) Status(ctx context.Context) (raft.Status, error) {
	if v.n.quorum == nil {
		return raft.Status{}, errors.New("this broker is not a voter of the metadata quorum")
	}
	return v.n.quorum.Status(ctx)
}

func (v quorumView) Forward(ctx context.Context, req *kmsg.DescribeQuorumRequest) (*kmsg.DescribeQuorumResponse, error) {
	if v.n.remote == nil {
		return nil, errors.New("no other voter to ask")
	}
	m, err := v.n.remote.Ask(ctx, req)
	if err != nil {
		return nil, err
	}
	return m.(*kmsg.DescribeQuorumResponse), nil
}

func (v quorumView) VoterAddr(id uint64) string {
	for _, p := range v.n.opts.Voters {
		if p.ID == id {
			return p.Addr
		}
	}
	if id == raft.PeerID(v.n.opts.NodeID) && v.n.ctlServer != nil {
		return v.n.ctlServer.Addr().String()
	}
	return ""
}

// ActiveController reports whether this node is the active controller.
func (n *Node) ActiveController() bool { return n.local != nil && n.local.Active() }

// ControllerChanged returns a channel closed when this voter's view of
// the quorum's leadership next changes (nil on a broker that is not a
// voter: it never closes).
func (n *Node) ControllerChanged() <-chan struct{} {
	if n.quorum == nil {
		return nil
	}
	_, changed := n.quorum.LeaderWatch()
	return changed
}

// Metadata is the node's metadata publisher.
func (n *Node) Metadata() *metadata.Publisher { return n.pub }

// ControllerAddr is the CONTROLLER listener's bound address, "" when it
// is not bound.
func (n *Node) ControllerAddr() string {
	if n.ctlServer == nil {
		return ""
	}
	return n.ctlServer.Addr().String()
}

// Addr is the Kafka listener's bound address.
func (n *Node) Addr() string { return n.server.Addr().String() }

// Listener is the Kafka listener (its Stats say what it holds).
func (n *Node) Listener() *conn.Server { return n.server }

// maintain runs log retention and time-based segment rolls every
// log.retention.check.interval.ms, producer id expiry every
// producer.id.expiration.check.interval.ms and the high watermark
// checkpoint every replica.high.watermark.checkpoint.interval.ms.
func (n *Node) maintain() {
	retention := time.NewTicker(cmp.Or(n.opts.RetentionCheckInterval, 5*time.Minute))
	defer retention.Stop()
	expiry := time.NewTicker(cmp.Or(n.opts.ProducerIDExpirationCheckInterval, 10*time.Minute))
	defer expiry.Stop()
	hws := time.NewTicker(cmp.Or(n.opts.HWCheckpointInterval, 5*time.Second))
	defer hws.Stop()
	isr := time.NewTicker(cmp.Or(n.opts.ISRCheckInterval, 15*time.Second))
	defer isr.Stop()
	for {
		select {
		case <-n.stop:
			return
		case now := <-isr.C:
			for _, p := range n.replicas.All() {
				p.MaybeShrinkISR(now.UnixMilli())
			}
		case <-hws.C:
			if err := n.replicas.CheckpointHighWatermarks(); err != nil {
				n.opts.Log.Error("high watermark checkpoint", "err", err)
			}
		case now := <-retention.C:
			n.forEachPartition("log maintenance", func(p *replica.Partition) error { return maintainOne(p, now.UnixMilli()) })
		case now := <-expiry.C:
			n.forEachPartition("producer id expiry", func(p *replica.Partition) error {
				_, err := p.ExpireProducers(now.UnixMilli())
				return err
			})
		}
	}
}

func (n *Node) forEachPartition(what string, f func(*replica.Partition) error) {
	for tp, p := range n.replicas.All() {
		if err := f(p); err != nil {
			n.opts.Log.Error(what, "partition", tp, "err", err)
		}
	}
}

func maintainOne(p *replica.Partition, nowMs int64) error {
	if err := p.Log().MaybeRoll(nowMs); err != nil {
		return err
	}
	if _, err := p.Log().ApplyRetentionUpTo(nowMs, p.HighWatermark()); err != nil {
		return err
	}
	p.SnapshotIfRolled() // producer state, after a roll made by segment.ms
	return nil
}

// Close stops the node: a broker that is not a voter first has the
// controller move its partitions' leadership (controlled shutdown), then
// listeners, then the logs (flushed), then the quorum.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close(true) })
	return n.closeErr
}

// Crash stops the node as Close does but without telling the controller
// (no controlled shutdown): for tests, the in-process stand-in for a
// broker that dies: its listener and its connections close, so the
// active controller's probe (controller/liveness.go) fences it.
func (n *Node) Crash() error {
	n.closeOnce.Do(func() { n.closeErr = n.close(false) })
	return n.closeErr
}

func (n *Node) close(controlled bool) error {
	close(n.stop)
	if controlled {
		n.controlledShutdown()
	}
	if n.stopFollower != nil {
		n.stopFollower()
	}
	if n.server != nil {
		n.server.Close()
	}
	if n.ctlServer != nil {
		n.ctlServer.Close()
	} else if n.ctlListener != nil {
		n.ctlListener.Close() // Start failed before the listener served
	}
	n.wg.Wait()
	if n.txns != nil {
		n.txns.Close() // before the groups and logs its markers write to
	}
	if n.groups != nil {
		n.groups.Close() // before the logs its shards write to
	}
	var err error
	if n.fetchers != nil {
		n.fetchers.Close() // before the logs it appends to
	}
	if n.replicas != nil {
		err = n.replicas.Close()
	}
	if n.fss != nil {
		n.fss.Close() // after the logs' last sync rounds
	}
	if n.wb != nil {
		n.wb.Close() // after the logs; it holds segments until then
	}
	if n.files != nil {
		n.files.Close() // after the logs, which closed their files
	}
	if n.follower != nil {
		n.follower.Close()
	}
	if n.remote != nil {
		n.remote.Close()
	}
	if n.quorum != nil {
		if qerr := n.quorum.Close(); err == nil {
			err = qerr
		}
	}
	return err
}
