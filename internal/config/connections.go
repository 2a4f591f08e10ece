package config

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Connection keys: the syntax of max.connections.per.ip.overrides and the
// rules Kafka's KafkaConfig checks between the connection keys.

// ParseConnectionOverrides parses max.connections.per.ip.overrides:
// comma-separated host:count pairs, split at the last colon so that an
// IPv6 address needs no brackets (Kafka's Csv.parseCsvMap). The value
// must have passed the key's validation; "" is no override.
func ParseConnectionOverrides(v string) map[string]int {
	out := map[string]int{}
	for _, e := range overrideElems(v) {
		i := strings.LastIndex(e, ":")
		if i < 0 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(e[i+1:]))
		if err != nil {
			continue
		}
		out[strings.TrimSpace(e[:i])] = n
	}
	return out
}

// overrideElems splits the value as Java's String.split does: a trailing
// empty element is dropped.
func overrideElems(v string) []string {
	elems := splitList(v)
	for len(elems) > 0 && elems[len(elems)-1] == "" {
		elems = elems[:len(elems)-1]
	}
	return elems
}

// validHost is Kafka's Utils.validHostPattern.
var validHost = regexp.MustCompile(`^[0-9a-zA-Z\-%._:]+$`)

// connectionOverrides validates max.connections.per.ip.overrides.
func connectionOverrides(v string) error {
	var bad []string
	for _, e := range overrideElems(v) {
		i := strings.LastIndex(e, ":")
		if i < 0 {
			return elemError{elem: e, reason: "Expected host:count pairs separated by commas"}
		}
		host, count := strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:])
		if n, err := strconv.ParseInt(count, 10, 32); err != nil || n < 0 {
			return elemError{elem: e, reason: "The connection count must be a non-negative INT"}
		}
		if !validHost.MatchString(host) {
			bad = append(bad, host)
		}
	}
	if len(bad) > 0 {
		return errors.New("contains invalid addresses : " + strings.Join(bad, ","))
	}
	return nil
}

// checkConnections applies Kafka's rules between the connection keys.
func (b *Broker) checkConnections() error {
	if q := b.Int("queued.max.request.bytes"); q > 0 && q < b.Int("socket.request.max.bytes") {
		return conflict("queued.max.request.bytes", "queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
	}
	if b.Int("max.connections.per.ip") == 0 && len(ParseConnectionOverrides(b.String("max.connections.per.ip.overrides"))) == 0 {
		return conflict("max.connections.per.ip", "max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set.")
	}
	return nil
}
