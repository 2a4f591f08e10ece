package node

import (
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/raft"
)

// TestFromConfigRefusesWhatItCannotHonour: valid Kafka settings that
// Sluice cannot honour yet stop startup with a message naming the key,
// instead of serving something else (issue 13, defect 11: an SSL
// listener served plain Kafka, a SASL port let unauthenticated clients
// create topics).
func TestFromConfigRefusesWhatItCannotHonour(t *testing.T) {
	base := map[string]string{"listeners": "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"}
	tests := []struct {
		name    string
		set     map[string]string
		wantKey string // "" means accepted
	}{
		{"defaults", nil, ""},
		{"ssl listener", map[string]string{"listeners": "SSL://127.0.0.1:19094,CONTROLLER://127.0.0.1:19093", "inter.broker.listener.name": "SSL"}, "listeners"},
		{"sasl listener by protocol map", map[string]string{
			"listeners":                      "CLIENT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19093",
			"listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
			"inter.broker.listener.name":     "CLIENT"}, "listeners"},
		{"ssl controller listener", map[string]string{
			"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL"}, "listeners"},
		{"two client listeners", map[string]string{
			"listeners":                      "PLAINTEXT://127.0.0.1:19092,EXTERNAL://127.0.0.1:19095,CONTROLLER://127.0.0.1:19093",
			"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"}, "listeners"},
		{"authorizer", map[string]string{"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"}, "authorizer.class.name"},
		{"two log dirs", map[string]string{"log.dirs": "/tmp/a,/tmp/b"}, "log.dirs"},
		{"three voters", map[string]string{"controller.quorum.voters": "1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093"}, ""},
		{"voter 0", map[string]string{"node.id": "0", "controller.quorum.voters": "0@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093"}, ""},
		{"lone voter 0", map[string]string{"node.id": "0"}, ""},
		{"controller only", map[string]string{"process.roles": "controller", "listeners": "CONTROLLER://127.0.0.1:19093"}, "process.roles"},
		{"broker following a controller", map[string]string{"process.roles": "broker", "node.id": "2",
			"listeners": "PLAINTEXT://127.0.0.1:29092", "controller.quorum.voters": "1@127.0.0.1:19093"}, ""},
		{"broker following three voters", map[string]string{"process.roles": "broker", "node.id": "4",
			"listeners": "PLAINTEXT://127.0.0.1:29092", "controller.quorum.voters": "1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]string{"log.dirs": filepath.Join(t.TempDir(), "data")}
			for k, v := range base {
				set[k] = v
			}
			for k, v := range tt.set {
				set[k] = v
			}
			cfg, _, err := config.Load("", set)
			if err != nil {
				t.Fatalf("config.Load: %v (the case must be valid Kafka config)", err)
			}
			_, err = FromConfig(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantKey != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantKey+": ")):
				t.Fatalf("error %v, want one naming %s", err, tt.wantKey)
			}
		})
	}
}

// TestFromConfigTakesKafkasServerProperties: the server.properties Kafka 4
// ships starts a Sluice node unchanged.
func TestFromConfigTakesKafkasServerProperties(t *testing.T) {
	cfg, _, err := config.Load("../config/testdata/kafka4-server.properties", map[string]string{"log.dirs": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromConfig(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("Kafka's server.properties refused: %v", err)
	}
}

// A broker that is not a controller binds no CONTROLLER listener and
// reaches the controller at the voter named; a controller binds it.
func TestFromConfigRoles(t *testing.T) {
	load := func(set map[string]string) Options {
		t.Helper()
		set["log.dirs"] = t.TempDir()
		cfg, _, err := config.Load("", set)
		if err != nil {
			t.Fatal(err)
		}
		o, err := FromConfig(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	b := load(map[string]string{"process.roles": "broker", "node.id": "2", "listeners": "PLAINTEXT://127.0.0.1:29092",
		"controller.quorum.voters": "1@127.0.0.1:19093"})
	if b.ControllerListener != nil || !slices.Equal(b.ControllerVoters, []string{"127.0.0.1:19093"}) {
		t.Fatalf("broker: controller listener %v, voters %v", b.ControllerListener, b.ControllerVoters)
	}
	c := load(map[string]string{"listeners": "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"})
	if c.ControllerListener == nil || c.ControllerListener.Addr != "127.0.0.1:19093" || len(c.ControllerVoters) != 0 || len(c.Voters) != 0 {
		t.Fatalf("controller: controller listener %v, voters %v %v", c.ControllerListener, c.ControllerVoters, c.Voters)
	}
	v := load(map[string]string{"node.id": "2", "listeners": "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093",
		"controller.quorum.voters": "1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093", "controller.quorum.election.timeout.ms": "1500",
		"broker.rack": "r2"})
	want := []raft.Peer{{ID: 1, Addr: "127.0.0.1:19093"}, {ID: 2, Addr: "127.0.0.1:29093"}, {ID: 3, Addr: "127.0.0.1:39093"}}
	if !slices.Equal(v.Voters, want) || len(v.ControllerVoters) != 0 || v.ElectionTimeout != 1500*time.Millisecond || v.Rack != "r2" {
		t.Fatalf("voter of three: voters %v, controller voters %v, election timeout %v, rack %q", v.Voters, v.ControllerVoters, v.ElectionTimeout, v.Rack)
	}
}
