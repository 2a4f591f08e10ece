package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// Listener is one entry of listeners or advertised.listeners.
type Listener struct {
	Name             string // upper case, as Kafka normalises it
	Host             string // "" binds every interface
	Port             int
	SecurityProtocol string // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
}

// Addr returns host:port for net.Listen or for a client to dial.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// String renders the listener as it is written in a config.
func (l Listener) String() string {
	host := l.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return l.Name + "://" + host + ":" + strconv.Itoa(l.Port)
}

// Voter is one entry of controller.quorum.voters.
type Voter struct {
	ID   model.NodeID
	Host string
	Port int
}

// Addr returns host:port of the voter.
func (v Voter) Addr() string { return net.JoinHostPort(v.Host, strconv.Itoa(v.Port)) }

// listenerRE is the endpoint grammar Kafka accepts: NAME://host:port,
// NAME://[ipv6]:port or NAME://:port.
var listenerRE = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

func parseListener(s string) (Listener, error) {
	m := listenerRE.FindStringSubmatch(s)
	if m == nil || m[1] == "" {
		return Listener{}, fmt.Errorf("Unable to parse %s to a broker endpoint", s)
	}
	port, err := strconv.Atoi(m[3])
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("Port of %s must be in [0, 65535]", s)
	}
	return Listener{Name: strings.ToUpper(m[1]), Host: m[2], Port: port}, nil
}

func parseListeners(v string) ([]Listener, error) {
	var ls []Listener
	seen := make(map[string]bool)
	for _, e := range splitList(v) {
		l, err := parseListener(e)
		if err != nil {
			return nil, elemError{elem: e, reason: err.Error()}
		}
		if seen[l.Name] {
			return nil, elemError{elem: v, reason: "Each listener must have a different name, " + l.Name + " appears twice"}
		}
		seen[l.Name] = true
		ls = append(ls, l)
	}
	return ls, nil
}

func listenerList(v string) error {
	if len(splitList(v)) == 0 {
		return errors.New("Empty list is not allowed")
	}
	_, err := parseListeners(v)
	return err
}

func advertisedList(v string) error {
	ls, err := parseListeners(v)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Host == "0.0.0.0" || l.Host == "::" {
			return errors.New("advertised.listeners cannot use the nonroutable meta-address " + l.Host + ". Use a routable IP address.")
		}
	}
	return nil
}

func parseProtocolMap(v string) (map[string]string, error) {
	m := make(map[string]string)
	for _, e := range splitList(v) {
		name, proto, ok := strings.Cut(e, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.TrimSpace(proto)
		if !ok || name == "" {
			return nil, elemError{elem: e, reason: "Expected NAME:PROTOCOL"}
		}
		if err := oneOf(securityProtocols...)(proto); err != nil {
			return nil, elemError{elem: e, reason: "Unknown security protocol " + proto + ": " + err.Error()}
		}
		if _, dup := m[name]; dup {
			return nil, elemError{elem: v, reason: "Listener name " + name + " appears twice"}
		}
		m[name] = proto
	}
	return m, nil
}

func protocolMap(v string) error {
	_, err := parseProtocolMap(v)
	return err
}

func processRoles(v string) error {
	if err := listOf(true, "broker", "controller")(v); err != nil {
		return err
	}
	return uniqueList(v)
}

func parseVoters(v string) ([]Voter, error) {
	var vs []Voter
	seen := make(map[model.NodeID]bool)
	for _, e := range splitList(v) {
		id, addr, ok := strings.Cut(e, "@")
		n, err := strconv.ParseInt(id, 10, 32)
		if !ok || err != nil || n < 0 {
			return nil, elemError{elem: e, reason: "Expected id@host:port with a non-negative id"}
		}
		if err := hostPort(addr); err != nil {
			return nil, elemError{elem: e, reason: err.Error()}
		}
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		if seen[model.NodeID(n)] {
			return nil, elemError{elem: v, reason: "Voter id " + id + " appears twice"}
		}
		seen[model.NodeID(n)] = true
		vs = append(vs, Voter{ID: model.NodeID(n), Host: host, Port: p})
	}
	return vs, nil
}

func quorumVoters(v string) error {
	_, err := parseVoters(v)
	return err
}

// isIPv4 and isIPv6 tell literal addresses apart: two listeners may share
// a port only when one binds an IPv4 literal and the other an IPv6 one.
func isIPv4(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() != nil
}

func isIPv6(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() == nil
}

// checkPorts refuses two listeners on the same non-zero port.
func checkPorts(ls []Listener) error {
	for i := range ls {
		for j := i + 1; j < len(ls); j++ {
			a, b := ls[i], ls[j]
			if a.Port == 0 || a.Port != b.Port {
				continue
			}
			if (isIPv4(a.Host) && isIPv6(b.Host)) || (isIPv6(a.Host) && isIPv4(b.Host)) {
				continue
			}
			return conflict("listeners", "Each listener must have a different port unless one binds an IPv4 and the other an IPv6 address: %s and %s share port %d", a.Name, b.Name, a.Port)
		}
	}
	return nil
}

// assignProtocols sets each listener's security protocol from the map.
// A controller listener with no entry is PLAINTEXT, as in KRaft Kafka.
func assignProtocols(ls []Listener, protos map[string]string, controllers []string, key string) error {
	for i := range ls {
		p, ok := protos[ls[i].Name]
		if !ok && containsFold(controllers, ls[i].Name) {
			p, ok = "PLAINTEXT", true
		}
		if !ok {
			return conflict(key, "No security protocol defined for listener %s in listener.security.protocol.map", ls[i].Name)
		}
		ls[i].SecurityProtocol = p
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

func findListener(ls []Listener, name string) (Listener, bool) {
	for _, l := range ls {
		if strings.EqualFold(l.Name, name) {
			return l, true
		}
	}
	return Listener{}, false
}
