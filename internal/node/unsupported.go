package node

import (
	"fmt"
	"slices"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/raft"
)

// unsupported refuses settings that are valid Kafka configuration but that
// this build of Sluice cannot honour yet. Starting anyway would serve
// something other than what the file asks for (plain, unauthenticated
// Kafka on a TLS or SASL port, every client allowed under an authorizer,
// one log directory of several, a one-node quorum where three voters are
// named), so startup stops with a message that names the key and says
// what to do (issue 13, defect 11).
func unsupported(cfg *config.Broker) error {
	for _, l := range cfg.Listeners {
		if l.SecurityProtocol != "PLAINTEXT" {
			return fmt.Errorf("listeners: listener %s uses security protocol %s, which Sluice does not implement yet (TLS and SASL are coming); "+
				"refusing to serve plain, unauthenticated Kafka on that port: use a PLAINTEXT listener", l.Name, l.SecurityProtocol)
		}
	}
	var broker []string
	for _, l := range cfg.Listeners {
		if !slices.Contains(cfg.ControllerListenerNames, l.Name) {
			broker = append(broker, l.Name)
		}
	}
	if len(broker) > 1 {
		return fmt.Errorf("listeners: %d client listeners (%v); Sluice serves one client listener for now: keep one and the controller listener", len(broker), broker)
	}
	if v, _, ok := cfg.Lookup("authorizer.class.name"); ok && v != "" {
		return fmt.Errorf("authorizer.class.name: ACL authorization is not implemented yet; without it every client could do everything, so remove the key (or leave it empty) to run without an authorizer")
	}
	if len(cfg.LogDirs) > 1 {
		return fmt.Errorf("log.dirs: %d directories (%v); Sluice keeps its logs in one directory for now (JBOD is not implemented): give one", len(cfg.LogDirs), cfg.LogDirs)
	}
	if !cfg.HasRole("broker") {
		return fmt.Errorf("process.roles: %v; a controller-only Sluice node is not implemented yet: set process.roles=broker,controller (or broker, for a node that follows a controller)", cfg.Roles)
	}
	if cfg.HasRole("controller") && len(cfg.QuorumVoters) == 0 {
		return fmt.Errorf("controller.quorum.voters: a controller needs the static voter list (the dynamic quorum of " +
			"controller.quorum.bootstrap.servers, KIP-853, is not implemented yet): list every voter as id@host:port")
	}
	return nil
}

// quorumPeers is controller.quorum.voters as raft peers for a voter of
// several, nil otherwise (a quorum of one needs no addresses).
func quorumPeers(cfg *config.Broker) []raft.Peer {
	if !cfg.HasRole("controller") || len(cfg.QuorumVoters) < 2 {
		return nil
	}
	out := make([]raft.Peer, len(cfg.QuorumVoters))
	for i, v := range cfg.QuorumVoters {
		out[i] = raft.Peer{ID: raft.PeerID(v.ID), Addr: v.Addr()}
	}
	return out
}

// controllerAddrs is where a broker that is not a voter reaches the
// controller: the voter of controller.quorum.voters, else
// controller.quorum.bootstrap.servers.
func controllerAddrs(cfg *config.Broker) []string {
	if cfg.HasRole("controller") {
		return nil
	}
	var out []string
	for _, v := range cfg.QuorumVoters {
		out = append(out, v.Addr())
	}
	if len(out) == 0 {
		out = append(out, cfg.QuorumBootstrapServers...)
	}
	return out
}

// controllerID is what Metadata and DescribeCluster name as the
// controller: this broker. Clients send it their admin requests and it
// forwards them to the active controller, as a Kafka broker in KRaft
// mode names a live broker (a voter that dies must not be named).
func controllerID(cfg *config.Broker) model.NodeID { return cfg.NodeID }
