package group

import (
	"slices"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/config"
)

func TestConsumerOptionsFromConfig(t *testing.T) {
	o := OptionsFromConfig(config.Default())
	if o.ConsumerHeartbeatInterval != 5*time.Second || o.ConsumerSessionTimeout != 45*time.Second ||
		!slices.Equal(o.ConsumerAssignors, []string{"uniform", "range"}) || o.DisableConsumerProtocol || o.ConsumerMaxGroupSize <= 0 {
		t.Fatalf("consumer group options from the default config: %+v", o)
	}
	o = Options{ConsumerAssignors: []string{"sticky", "range"}}
	o.normalize()
	if !slices.Equal(o.ConsumerAssignors, []string{"range"}) || o.ConsumerSessionTimeout != 45*time.Second || o.metadataImage() == nil {
		t.Fatalf("normalized: %+v", o)
	}
}
