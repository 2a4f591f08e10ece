package config

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// resolveNetwork fills the listener and quorum fields and checks how the
// keys behind them fit together, as Kafka's KafkaConfig validation does.
func (b *Broker) resolveNetwork() error {
	if err := b.checkNodeID(); err != nil {
		return err
	}
	protos, _ := parseProtocolMap(b.String("listener.security.protocol.map"))
	b.ControllerListenerNames = upperAll(b.List("controller.listener.names"))
	b.Listeners, _ = parseListeners(b.String("listeners"))
	if err := assignProtocols(b.Listeners, protos, b.ControllerListenerNames, "listeners"); err != nil {
		return err
	}
	if err := checkPorts(b.Listeners); err != nil {
		return err
	}
	if err := b.checkControllerListeners(); err != nil {
		return err
	}
	if err := b.resolveAdvertised(protos); err != nil {
		return err
	}
	if err := b.resolveInterBroker(); err != nil {
		return err
	}
	if err := b.resolveQuorum(); err != nil {
		return err
	}
	return b.checkHTTPListener()
}

func (b *Broker) checkNodeID() error {
	if b.isSet("node.id") && b.isSet("broker.id") && b.Int("node.id") != b.Int("broker.id") {
		return conflict("broker.id", "The values for broker.id (%d) and node.id (%d) must be the same if both are specified", b.Int("broker.id"), b.Int("node.id"))
	}
	return nil
}

func (b *Broker) checkControllerListeners() error {
	names := b.ControllerListenerNames
	if len(names) == 0 {
		return conflict("controller.listener.names", "controller.listener.names must contain at least one listener name")
	}
	inListeners := false
	for _, n := range names {
		if _, ok := findListener(b.Listeners, n); ok {
			inListeners = true
		}
	}
	if b.HasRole("controller") {
		if _, ok := findListener(b.Listeners, names[0]); !ok {
			return conflict("controller.listener.names", "The first entry of controller.listener.names (%s) must appear in listeners when process.roles includes controller", names[0])
		}
	} else if inListeners {
		return conflict("controller.listener.names", "controller.listener.names must not name a listener in listeners when process.roles is broker only")
	}
	if b.HasRole("broker") && len(b.brokerListeners()) == 0 {
		return conflict("listeners", "listeners must contain at least one listener that is not a controller listener when process.roles includes broker")
	}
	return nil
}

// brokerListeners returns the listeners that serve clients.
func (b *Broker) brokerListeners() []Listener {
	var ls []Listener
	for _, l := range b.Listeners {
		if !containsFold(b.ControllerListenerNames, l.Name) {
			ls = append(ls, l)
		}
	}
	return ls
}

// resolveAdvertised applies advertised.listeners, or derives it from the
// broker listeners: an empty host advertises this machine's host name.
func (b *Broker) resolveAdvertised(protos map[string]string) error {
	if !b.HasRole("broker") {
		return nil
	}
	if b.isSet("advertised.listeners") {
		adv, _ := parseListeners(b.String("advertised.listeners"))
		for _, a := range adv {
			if _, ok := findListener(b.Listeners, a.Name); !ok {
				return conflict("advertised.listeners", "advertised.listeners listener name %s is not one of the listener names in listeners", a.Name)
			}
		}
		if err := assignProtocols(adv, protos, b.ControllerListenerNames, "advertised.listeners"); err != nil {
			return err
		}
		b.AdvertisedListeners = withoutControllers(adv, b.ControllerListenerNames)
		return nil
	}
	for _, l := range b.brokerListeners() {
		switch l.Host {
		case "0.0.0.0", "::":
			return conflict("advertised.listeners", "advertised.listeners cannot use the nonroutable meta-address %s (derived from listener %s); set advertised.listeners to a routable address", l.Host, l.Name)
		case "":
			l.Host = hostname()
		}
		b.AdvertisedListeners = append(b.AdvertisedListeners, l)
	}
	return nil
}

func withoutControllers(ls []Listener, controllers []string) []Listener {
	var out []Listener
	for _, l := range ls {
		if !containsFold(controllers, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// hostname is what an empty listener host is advertised as.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (b *Broker) resolveInterBroker() error {
	name := b.String("inter.broker.listener.name")
	if name != "" && b.isSet("security.inter.broker.protocol") {
		return conflict("inter.broker.listener.name", "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set")
	}
	if name == "" {
		name = b.String("security.inter.broker.protocol")
	}
	b.InterBrokerListenerName = strings.ToUpper(name)
	if !b.HasRole("broker") {
		return nil
	}
	if containsFold(b.ControllerListenerNames, name) {
		return conflict("inter.broker.listener.name", "inter.broker.listener.name %s must not be a controller listener", b.InterBrokerListenerName)
	}
	if _, ok := findListener(b.AdvertisedListeners, name); !ok {
		return conflict("inter.broker.listener.name", "inter.broker.listener.name must be a listener name defined in advertised.listeners; %s is not (set inter.broker.listener.name)", b.InterBrokerListenerName)
	}
	return nil
}

// resolveQuorum parses the quorum keys. A controller forms a one-voter
// quorum on its own controller listener when neither key is set, or when
// the bootstrap list names only that listener (Kafka's shipped
// server.properties; kafka-storage format --standalone in Kafka).
func (b *Broker) resolveQuorum() error {
	b.QuorumVoters, _ = parseVoters(b.String("controller.quorum.voters"))
	b.QuorumBootstrapServers = b.List("controller.quorum.bootstrap.servers")
	if len(b.QuorumVoters) == 0 && len(b.QuorumBootstrapServers) == 0 && !b.HasRole("controller") {
		return conflict("controller.quorum.voters", "controller.quorum.voters or controller.quorum.bootstrap.servers must be set when process.roles does not include controller")
	}
	if len(b.QuorumVoters) == 0 && b.HasRole("controller") {
		l, _ := findListener(b.Listeners, b.ControllerListenerNames[0])
		self := Voter{ID: b.NodeID, Host: l.Host, Port: l.Port}
		if isAnyHost(self.Host) {
			self.Host = "localhost"
		}
		if len(b.QuorumBootstrapServers) == 0 || b.bootstrapIsSelf(l) {
			b.QuorumVoters = []Voter{self}
		}
		return nil
	}
	if b.HasRole("controller") && len(b.QuorumVoters) > 0 {
		for _, v := range b.QuorumVoters {
			if v.ID == b.NodeID {
				return nil
			}
		}
		return conflict("controller.quorum.voters", "node.id %d must be one of the voters in controller.quorum.voters when process.roles includes controller", b.NodeID)
	}
	return nil
}

// bootstrapIsSelf reports whether the bootstrap list is exactly this
// node's controller listener l.
func (b *Broker) bootstrapIsSelf(l Listener) bool {
	if len(b.QuorumBootstrapServers) != 1 {
		return false
	}
	host, port, _ := net.SplitHostPort(b.QuorumBootstrapServers[0])
	if port != strconv.Itoa(l.Port) {
		return false
	}
	if isAnyHost(l.Host) {
		return isLocalHost(host)
	}
	return strings.EqualFold(host, l.Host)
}

func isAnyHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

func isLocalHost(h string) bool {
	if strings.EqualFold(h, "localhost") || strings.EqualFold(h, hostname()) {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (b *Broker) checkHTTPListener() error {
	if b.HTTPListener == "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(b.HTTPListener)
	p, _ := strconv.Atoi(port)
	for _, l := range b.Listeners {
		if p != 0 && l.Port == p {
			return conflict("sluice.http.listener", "sluice.http.listener port %d is already used by listener %s", p, l.Name)
		}
	}
	return nil
}

// riskWarnings flags settings that work but are probably not meant.
func (b *Broker) riskWarnings() []Warning {
	if len(b.QuorumVoters)+len(b.QuorumBootstrapServers) <= 1 {
		return nil
	}
	var ws []Warning
	for _, k := range []string{"offsets.topic.replication.factor", "transaction.state.log.replication.factor"} {
		if !b.isSet(k) {
			ws = append(ws, Warning{Key: k, Msg: "left at the single-node default 1 in a multi-node cluster; set it to 3 so group and transaction state survive a broker loss"})
		}
	}
	return ws
}

func upperAll(ss []string) []string {
	for i := range ss {
		ss[i] = strings.ToUpper(ss[i])
	}
	return ss
}

// listenerMechanismKeys are the keys Kafka lets a listener override per
// SASL mechanism: listener.name.<l>.<mechanism>.<key>.
var listenerMechanismKeys = map[string]bool{
	"sasl.jaas.config":                   true,
	"sasl.login.callback.handler.class":  true,
	"sasl.login.class":                   true,
	"sasl.server.callback.handler.class": true,
	"connections.max.reauth.ms":          true,
}

// listenerOverrideDef returns the def that checks a listener-prefixed key
// (listener.name.<l>.<key> or listener.name.<l>.<mechanism>.<key>).
func listenerOverrideDef(name string) (*Def, bool) {
	rest, ok := strings.CutPrefix(name, "listener.name.")
	if !ok {
		return nil, false
	}
	_, key, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, false
	}
	d, ok := BrokerDef(key)
	if !ok {
		if _, base, cut := strings.Cut(key, "."); cut && listenerMechanismKeys[base] {
			d, ok = BrokerDef(base)
			if !ok {
				d, ok = &Def{Type: TypePassword, Sensitive: true}, true
			}
		}
	}
	if !ok {
		return nil, false
	}
	named := *d // errors must name the key as written
	named.Name = name
	return &named, true
}

// unknownBrokerKeyHint words the warning for a key Sluice does not know.
func unknownBrokerKeyHint(k string) string {
	if d, ok := TopicDef(k); ok && len(d.Synonyms) > 0 {
		return "a topic config, not a broker config; ignored (the broker default is " + d.Synonyms[0] + ")"
	}
	if strings.HasPrefix(k, "zookeeper.") {
		return "ZooKeeper is gone in Kafka 4 and Sluice; ignored"
	}
	return "unknown config; ignored"
}
