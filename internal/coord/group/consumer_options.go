package group

import (
	"slices"

	"github.com/sluice-io/sluice/internal/metadata"
)

// normalizeConsumer fills the consumer group options left zero with
// Kafka's defaults and keeps only assignors this broker has.
func (o *Options) normalizeConsumer(d Options) {
	if o.ConsumerHeartbeatInterval <= 0 {
		o.ConsumerHeartbeatInterval = d.ConsumerHeartbeatInterval
	}
	if o.ConsumerSessionTimeout <= 0 {
		o.ConsumerSessionTimeout = d.ConsumerSessionTimeout
	}
	if o.ConsumerMaxGroupSize <= 0 {
		o.ConsumerMaxGroupSize = d.ConsumerMaxGroupSize
	}
	o.ConsumerAssignors = slices.DeleteFunc(slices.Clone(o.ConsumerAssignors), func(n string) bool { return assignors[n] == nil })
	if len(o.ConsumerAssignors) == 0 {
		o.ConsumerAssignors = d.ConsumerAssignors
	}
	if o.metadataImage == nil {
		empty := metadata.Empty()
		o.metadataImage = func() *metadata.Image { return empty }
	}
}
