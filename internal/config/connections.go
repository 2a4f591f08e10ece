package config

// checkConnections applies Kafka's rules between the connection keys.
func (b *Broker) checkConnections() error {
	if q := b.Int("queued.max.request.bytes"); q > 0 && q < b.Int("socket.request.max.bytes") {
		return conflict("queued.max.request.bytes", "queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
	}
	return nil
}
