package bench

import "testing"

func value(run uint64, producer uint32, partition int32, seq uint64) []byte {
	b := make([]byte, HeaderSize+8)
	header{run: run, producer: producer, partition: partition, seq: seq, sentNs: 42}.put(b)
	return b
}

func TestChecker(t *testing.T) {
	const run = 7
	type rec struct {
		readFrom  int32 // partition the record was consumed from
		producer  uint32
		partition int32
		seq       uint64
	}
	seqs := func(p int32, ns ...uint64) []rec {
		var out []rec
		for _, n := range ns {
			out = append(out, rec{p, 0, p, n})
		}
		return out
	}
	tests := []struct {
		name   string
		sent   []uint64 // per stream (one producer, two partitions)
		failed map[int]uint64
		recs   []rec
		want   Integrity
	}{
		{"in order", []uint64{3, 2}, nil, append(seqs(0, 0, 1, 2), seqs(1, 0, 1)...),
			Integrity{Expected: 5, Received: 5}},
		{"interleaved partitions are fine", []uint64{2, 2}, nil, []rec{{0, 0, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 1}, {1, 0, 1, 1}},
			Integrity{Expected: 4, Received: 4}},
		{"lost tail", []uint64{4, 0}, nil, seqs(0, 0, 1),
			Integrity{Expected: 4, Received: 2, Lost: 2}},
		{"lost middle", []uint64{3, 0}, nil, seqs(0, 0, 2),
			Integrity{Expected: 3, Received: 2, Lost: 1}},
		{"duplicate", []uint64{3, 0}, nil, seqs(0, 0, 1, 1, 2, 0),
			Integrity{Expected: 3, Received: 3, Duplicated: 2}},
		{"reordered", []uint64{3, 0}, nil, seqs(0, 0, 2, 1),
			Integrity{Expected: 3, Received: 3, Reordered: 1}},
		{"failed record is not lost", []uint64{3, 0}, map[int]uint64{0: 1}, seqs(0, 0, 2),
			Integrity{Expected: 2, Received: 2}},
		{"misrouted", []uint64{1, 0}, nil, []rec{{1, 0, 0, 0}},
			Integrity{Expected: 1, Received: 1, Misrouted: 1}},
		{"foreign producer and partition", []uint64{1, 0}, nil, []rec{{0, 0, 0, 0}, {0, 5, 0, 0}, {0, 0, 9, 0}},
			Integrity{Expected: 1, Received: 1, Foreign: 2}},
		{"large sequence numbers grow the bitset", []uint64{100_000, 0}, nil, seqs(0, 99_999),
			Integrity{Expected: 100_000, Received: 1, Reordered: 0, Lost: 99_999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(run, 1, 2)
			for _, r := range tt.recs {
				c.Observe(r.readFrom, value(run, r.producer, r.partition, r.seq))
			}
			got := c.Finish(func(i int) uint64 { return tt.sent[i] }, func(i int, seq uint64) bool {
				s, ok := tt.failed[i]
				return ok && s == seq
			})
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.OK() != (tt.want.Lost+tt.want.Duplicated+tt.want.Reordered+tt.want.Misrouted == 0) {
				t.Errorf("OK() = %v", got.OK())
			}
		})
	}
}

func TestCheckerForeignRunAndShortValue(t *testing.T) {
	c := NewChecker(1, 1, 1)
	c.Observe(0, value(2, 0, 0, 0))
	c.Observe(0, []byte("short"))
	got := c.Finish(func(int) uint64 { return 0 }, func(int, uint64) bool { return false })
	if got != (Integrity{Foreign: 2}) || !got.OK() {
		t.Errorf("got %+v", got)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	h := header{run: 1<<63 + 5, producer: 3, partition: 11, seq: 1 << 40, sentNs: -1}
	b := make([]byte, HeaderSize)
	h.put(b)
	got, ok := readHeader(b)
	if !ok || got != h {
		t.Errorf("readHeader = %+v, %v; want %+v", got, ok, h)
	}
	if ns, ok := sentAt(b); !ok || ns != -1 {
		t.Errorf("sentAt = %d, %v", ns, ok)
	}
	if _, ok := readHeader(b[:HeaderSize-1]); ok {
		t.Error("readHeader accepted a short value")
	}
}
