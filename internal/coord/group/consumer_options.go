package group

import (
	"slices"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
)

// normalizeConsumer fills the consumer group options left zero with
// Kafka's defaults and keeps only assignors this broker has.
func (o *Options) normalizeConsumer(d Options) {
	runtime.Default(&o.ConsumerHeartbeatInterval, d.ConsumerHeartbeatInterval)
	runtime.Default(&o.ConsumerSessionTimeout, d.ConsumerSessionTimeout)
	runtime.Default(&o.ConsumerMaxGroupSize, d.ConsumerMaxGroupSize)
	o.ConsumerAssignors = slices.DeleteFunc(slices.Clone(o.ConsumerAssignors), func(n string) bool { return assignors[n] == nil })
	if len(o.ConsumerAssignors) == 0 {
		o.ConsumerAssignors = d.ConsumerAssignors
	}
	if o.metadataImage == nil {
		empty := metadata.Empty()
		o.metadataImage = func() *metadata.Image { return empty }
	}
}
