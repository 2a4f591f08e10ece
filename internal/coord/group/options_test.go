package group

import (
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/config"
)

func TestOptionsFromConfig(t *testing.T) {
	o := OptionsFromConfig(config.Default())
	if o.OffsetsTopicPartitions != 50 || o.InitialRebalanceDelay != 3*time.Second || o.MinSessionTimeout != 6*time.Second ||
		o.MaxSessionTimeout != 30*time.Minute || o.OffsetMetadataMaxBytes != 4096 || o.OffsetsRetention != 7*24*time.Hour ||
		o.OffsetsRetentionCheckInterval != 10*time.Minute || o.OffsetsTopicSegmentBytes != 100<<20 {
		t.Fatalf("options from the default config: %+v", o)
	}
}
