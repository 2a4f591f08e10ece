package node

import (
	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/kafka/conn"
)

// requestLimits are the bounds of requests read ahead of their replies.
func requestLimits(cfg *config.Broker) conn.RequestLimits {
	return conn.RequestLimits{
		PerConnBytes:   cfg.Int("sluice.queued.max.request.bytes.per.connection"),
		QueuedRequests: int(cfg.Int("queued.max.requests")),
		QueuedBytes:    cfg.Int("queued.max.request.bytes"),
	}
}
