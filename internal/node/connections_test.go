package node

import (
	"maps"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/kafka/conn"
)

// TestConnectionOptionsFromConfig: every connection key reaches the
// listener's options.
func TestConnectionOptionsFromConfig(t *testing.T) {
	cfg, _, err := config.FromProperties(nil, map[string]string{
		"max.connections":                                      "10",
		"max.connections.per.ip":                               "3",
		"max.connections.per.ip.overrides":                     "127.0.0.1:5,broker1:0",
		"max.connection.creation.rate":                         "20",
		"connections.max.idle.ms":                              "1234",
		"queued.max.requests":                                  "7",
		"queued.max.request.bytes":                             "209715200",
		"sluice.queued.max.request.bytes.per.connection":       "1048576",
		"listener.name.plaintext.max.connections":              "8",
		"listener.name.plaintext.max.connection.creation.rate": "9",
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := FromConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := conn.ConnectionLimits{Max: 10, PerIP: 3, PerIPOverrides: map[string]int{"127.0.0.1": 5, "broker1": 0}, CreationRate: 20,
		ListenerMax: 8, ListenerCreationRate: 9}
	if o.Connections.Max != want.Max || o.Connections.PerIP != want.PerIP || o.Connections.CreationRate != want.CreationRate ||
		!maps.Equal(o.Connections.PerIPOverrides, want.PerIPOverrides) ||
		o.Connections.ListenerMax != want.ListenerMax || o.Connections.ListenerCreationRate != want.ListenerCreationRate {
		t.Errorf("connections %+v, want %+v", o.Connections, want)
	}
	if r := (conn.RequestLimits{PerConnBytes: 1 << 20, QueuedRequests: 7, QueuedBytes: 200 << 20}); o.Requests != r {
		t.Errorf("requests %+v, want %+v", o.Requests, r)
	}
	if o.IdleTimeout != 1234*time.Millisecond {
		t.Errorf("idle timeout %v", o.IdleTimeout)
	}

	cfg, _, _ = config.FromProperties(nil, map[string]string{"connections.max.idle.ms": "-1"})
	o, _ = FromConfig(cfg, nil)
	if o.IdleTimeout >= 0 {
		t.Errorf("connections.max.idle.ms=-1: idle timeout %v, want never", o.IdleTimeout)
	}
	if c, none := o.Connections, conn.NoConnectionLimits(); c.Max != none.Max || c.PerIP != none.PerIP || c.CreationRate != none.CreationRate ||
		c.ListenerMax != none.ListenerMax || c.ListenerCreationRate != none.ListenerCreationRate || len(c.PerIPOverrides) > 0 {
		t.Errorf("defaults: %+v, want no limits", o.Connections)
	}
}

// TestConnectionLimitsWithDynamic: dynamic values (per broker or cluster
// default) replace the static ones; keys without one keep theirs.
func TestConnectionLimitsWithDynamic(t *testing.T) {
	static, _, err := config.FromProperties(nil, map[string]string{"max.connections": "10", "max.connections.per.ip": "4"})
	if err != nil {
		t.Fatal(err)
	}
	base := connectionLimits(static, "PLAINTEXT")
	eff, warns := static.WithDynamic(map[string]string{"max.connections.per.ip": "2"},
		map[string]string{"max.connections": "5", "max.connections.per.ip.overrides": "10.0.0.1:9"})
	if len(warns) > 0 {
		t.Fatal(warns)
	}
	got := withDynamic(base, eff)
	if got.Max != 5 || got.PerIP != 2 || got.PerIPOverrides["10.0.0.1"] != 9 || got.CreationRate != base.CreationRate {
		t.Errorf("limits %+v", got)
	}
	if got := withDynamic(base, static); got.Max != 10 || got.PerIP != 4 {
		t.Errorf("without dynamic values: %+v", got)
	}
}
