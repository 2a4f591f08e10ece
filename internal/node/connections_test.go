package node

import (
	"testing"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/kafka/conn"
)

// TestConnectionOptionsFromConfig: every connection key reaches the
// listener's options.
func TestConnectionOptionsFromConfig(t *testing.T) {
	cfg, _, err := config.FromProperties(nil, map[string]string{
		"queued.max.requests":                            "7",
		"queued.max.request.bytes":                       "209715200",
		"sluice.queued.max.request.bytes.per.connection": "1048576",
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := FromConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := (conn.RequestLimits{PerConnBytes: 1 << 20, QueuedRequests: 7, QueuedBytes: 200 << 20}); o.Requests != r {
		t.Errorf("requests %+v, want %+v", o.Requests, r)
	}
}
