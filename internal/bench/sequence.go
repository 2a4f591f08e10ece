package bench

// Integrity is what the end-to-end check found: every record a producer
// sent must be consumed exactly once, and in the order it was sent within
// its (producer, partition) stream.
type Integrity struct {
	// Expected is the number of records the producers had acknowledged.
	Expected int64 `json:"expected"`
	// Received counts distinct records of this run that were consumed.
	Received int64 `json:"received"`
	// Lost counts acknowledged records that were never consumed.
	Lost int64 `json:"lost"`
	// Duplicated counts records consumed again after their first time.
	Duplicated int64 `json:"duplicated"`
	// Reordered counts records consumed after a later record of the same
	// stream.
	Reordered int64 `json:"reordered"`
	// Foreign counts records from another run or without a valid header
	// (ignored).
	Foreign int64 `json:"foreign"`
	// Misrouted counts records found in another partition than the one
	// they were sent to.
	Misrouted int64 `json:"misrouted"`
}

// OK reports whether nothing was lost, duplicated, reordered or misrouted.
func (i Integrity) OK() bool {
	return i.Lost == 0 && i.Duplicated == 0 && i.Reordered == 0 && i.Misrouted == 0
}

// stream is one (producer, partition) sequence as the consumer sees it.
type stream struct {
	seen []uint64 // bitset of the sequence numbers consumed
	next uint64   // one past the highest sequence number consumed
}

func (s *stream) has(seq uint64) bool {
	w := seq / 64
	return w < uint64(len(s.seen)) && s.seen[w]&(1<<(seq%64)) != 0
}

func (s *stream) set(seq uint64) {
	w := seq / 64
	if w >= uint64(len(s.seen)) {
		// grow by doubling: amortised, not per record
		s.seen = append(s.seen, make([]uint64, max(int(w)+1-len(s.seen), len(s.seen)))...)
	}
	s.seen[w] |= 1 << (seq % 64)
}

// Checker checks the sequence of consumed records against what was sent.
// Streams are indexed producer*partitions+partition.
//
// A Checker is not safe for concurrent use: the consumer goroutine owns it.
type Checker struct {
	run        uint64
	partitions int32
	streams    []stream
	res        Integrity
}

// NewChecker returns a Checker for the records of run, sent by producers
// clients over partitions partitions.
func NewChecker(run uint64, producers int, partitions int32) *Checker {
	return &Checker{run: run, partitions: partitions, streams: make([]stream, producers*int(partitions))}
}

// Observe checks one consumed record: its value and the partition it was
// read from. It returns the record's send time and whether the record
// belongs to this run.
func (c *Checker) Observe(partition int32, value []byte) (sentNs int64, ours bool) {
	h, ok := readHeader(value)
	if !ok || h.run != c.run || h.partition < 0 || h.partition >= c.partitions ||
		int(h.producer) >= len(c.streams)/int(c.partitions) {
		c.res.Foreign++
		return 0, false
	}
	if h.partition != partition {
		c.res.Misrouted++
	}
	s := &c.streams[int(h.producer)*int(c.partitions)+int(h.partition)]
	if s.has(h.seq) {
		c.res.Duplicated++
		return h.sentNs, true
	}
	s.set(h.seq)
	c.res.Received++
	if h.seq < s.next {
		c.res.Reordered++
	} else {
		s.next = h.seq + 1
	}
	return h.sentNs, true
}

// Received is the number of distinct records of this run consumed so far.
func (c *Checker) Received() int64 { return c.res.Received }

// Finish compares what was consumed with what was sent: sent(i) is the
// number of records stream i was given (sequence numbers 0..n-1), failed
// reports whether a record was never acknowledged (its absence is not a
// loss; the producer already counted it as an error).
func (c *Checker) Finish(sent func(stream int) uint64, failed func(stream int, seq uint64) bool) Integrity {
	res := c.res
	res.Expected, res.Lost = 0, 0
	for i := range c.streams {
		s := &c.streams[i]
		n := sent(i)
		for seq := range n {
			if failed(i, seq) {
				continue
			}
			res.Expected++
			if !s.has(seq) {
				res.Lost++
			}
		}
	}
	return res
}
