package config

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestConnectionOverrides(t *testing.T) {
	tests := []struct {
		value string
		want  map[string]int // nil: invalid
		msg   string
	}{
		{"", map[string]int{}, ""},
		{"127.0.0.1:5", map[string]int{"127.0.0.1": 5}, ""},
		{"broker1:10, 10.0.0.1 : 0", map[string]int{"broker1": 10, "10.0.0.1": 0}, ""},
		{"::1:7", map[string]int{"::1": 7}, ""}, // split at the last colon
		{"h:1,", map[string]int{"h": 1}, ""},    // a trailing comma, as Java's split
		{"host", nil, "Invalid value host for configuration max.connections.per.ip.overrides: Expected host:count"},
		{"h:x", nil, "Invalid value h:x for configuration max.connections.per.ip.overrides: The connection count"},
		{"h:-1", nil, "The connection count must be a non-negative INT"},
		{"a:1,,b:2", nil, "Expected host:count"},
		{"bad/host:1,ok:2,w*:3", nil, "contains invalid addresses : bad/host,w*"},
		{":3", nil, "contains invalid addresses"},
	}
	d, _ := BrokerDef("max.connections.per.ip.overrides")
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			err := d.Check(tt.value)
			if tt.want == nil {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != d.Name || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want one naming %s containing %q", err, d.Name, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ParseConnectionOverrides(tt.value); !maps.Equal(got, tt.want) {
				t.Errorf("parsed %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConnectionCrossKeyChecks(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		key   string // "" when valid
		msg   string
	}{
		{"queued bytes below the request size", map[string]string{"queued.max.request.bytes": "1000"},
			"queued.max.request.bytes", "queued.max.request.bytes must be larger or equal to socket.request.max.bytes"},
		{"queued bytes at the request size", map[string]string{"queued.max.request.bytes": "2000", "socket.request.max.bytes": "2000"}, "", ""},
		{"queued bytes unbounded", map[string]string{"queued.max.request.bytes": "-1"}, "", ""},
		{"zero per ip without overrides", map[string]string{"max.connections.per.ip": "0"},
			"max.connections.per.ip", "max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set."},
		{"zero per ip with overrides", map[string]string{"max.connections.per.ip": "0", "max.connections.per.ip.overrides": "127.0.0.1:5"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FromProperties(nil, tt.props)
			if tt.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key || err.Error() != tt.msg {
				t.Fatalf("err = %v, want %q for %s", err, tt.msg, tt.key)
			}
		})
	}
}

// TestConnectionKeysAlteredAtRunTime: the four connection limits are
// cluster-wide dynamic keys, checked as at startup when altered.
func TestConnectionKeysAlteredAtRunTime(t *testing.T) {
	b := Default()
	for _, layer := range []map[string]string{
		{"max.connections": "10"}, {"max.connections.per.ip": "3"},
		{"max.connections.per.ip.overrides": "127.0.0.1:5"}, {"max.connection.creation.rate": "100"},
	} {
		if err := ValidateBrokerAlter(b, false, layer); err != nil {
			t.Errorf("%v: %v", layer, err)
		}
	}
	err := ValidateBrokerAlter(b, false, map[string]string{"max.connections.per.ip.overrides": "x"})
	if !strings.Contains(err.Error(), "max.connections.per.ip.overrides") {
		t.Errorf("bad overrides: %v", err)
	}
	err = ValidateBrokerAlter(b, false, map[string]string{"max.connections.per.ip": "0"})
	if !strings.Contains(err.Error(), "max.connections.per.ip can be set to zero only if") {
		t.Errorf("zero per ip: %v", err)
	}
	eff, warns := b.WithDynamic(nil, map[string]string{"max.connections": "7"})
	if len(warns) > 0 || eff.Int("max.connections") != 7 {
		t.Errorf("WithDynamic: max.connections %d, warnings %v", eff.Int("max.connections"), warns)
	}
}
