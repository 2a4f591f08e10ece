package cluster

import "sync/atomic"

// brokerEpochSource is where the replica fetchers and the ISR proposer
// read this broker's epoch (KIP-903) when they send a request: the node
// sets it once its registration is in the image.
type brokerEpochSource struct {
	f atomic.Pointer[func() int64]
}

func (s *brokerEpochSource) set(epoch func() int64) { s.f.Store(&epoch) }

// get is the epoch now, -1 before set.
func (s *brokerEpochSource) get() int64 {
	if f := s.f.Load(); f != nil {
		return (*f)()
	}
	return -1
}
