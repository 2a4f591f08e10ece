package conn

// Stats is a snapshot of what a listener holds, for tests and the coming
// metrics.
type Stats struct {
	Connections int
	// Requests are read and not yet answered, over all connections;
	// Queued of them were read behind an earlier one on their connection
	// (what queued.max.requests bounds); Bytes are their frames.
	Requests, Queued, Bytes int64
	// MaxConnBytes is the most bytes in flight on one connection.
	MaxConnBytes int64
	// ReadersWaiting counts connections not read for lack of budget
	// (backpressure).
	ReadersWaiting int
	// AcceptWaiting: the accept loop holds a connection until
	// max.connections allows it.
	AcceptWaiting bool
}

// Stats returns a snapshot of the listener. It takes the listener's
// lock: not for hot paths.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Connections: s.q.total, AcceptWaiting: s.q.acceptWaiting}
	for cn := range s.conns {
		b := cn.flight.bytes.Load()
		st.Requests += int64(cn.flight.reqs.Load())
		st.Queued += cn.flight.queued.Load()
		st.Bytes += b
		st.MaxConnBytes = max(st.MaxConnBytes, b)
		if cn.waiting.Load() {
			st.ReadersWaiting++
		}
	}
	return st
}
