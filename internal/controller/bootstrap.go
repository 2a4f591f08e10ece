package controller

import (
	"context"
	"fmt"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Register writes the cluster id (first start only) and this broker's
// registration when it is new or changed. A registration of another
// process (incarnation) while the registered one lives (its heartbeat
// connection is open) fails with ErrDuplicateRegistration, as Kafka
// answers DUPLICATE_BROKER_REGISTRATION: two processes with one node.id.
func (c *Controller) Register(ctx context.Context, b metadata.BrokerRecord) error {
	var dup error
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		if im.ClusterID == "" {
			recs = append(recs, metadata.Record{Cluster: &metadata.ClusterRecord{ClusterID: newClusterID()}})
		}
		cur := im.Brokers[b.ID]
		if cur != nil && !cur.Fenced && !cur.Incarnation.IsZero() && cur.Incarnation != b.Incarnation &&
			c.sessions != nil && c.sessions.alive(b.ID) {
			dup = fmt.Errorf("%w: node.id %d is registered by another process that is alive (at %s:%d): give this one another node.id",
				ErrDuplicateRegistration, b.ID, cur.Host, cur.Port)
			return nil
		}
		if cur == nil || cur.Host != b.Host || cur.Port != b.Port || cur.Rack != b.Rack || cur.Fenced != b.Fenced || cur.Incarnation != b.Incarnation {
			rec := b
			recs = append(recs, metadata.Record{Broker: &rec})
		}
		if cur != nil && cur.Fenced && !b.Fenced {
			// Back from a fence: lead what waits for it (sessions.go).
			if un := c.unfenceRecords(im, b.ID); len(un) > 1 {
				recs = append(recs, un[1:]...)
			}
		}
		return recs
	})
	if err == nil {
		err = dup
	}
	if err != nil {
		return fmt.Errorf("register broker %d: %w", b.ID, err)
	}
	return nil
}

// newClusterID returns a Kafka-style cluster id: 16 random bytes, base64.
func newClusterID() string { return model.NewTopicID().String() }
