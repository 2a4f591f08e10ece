package produce

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// tally counts records sent and their delivery results. It is safe for
// concurrent use: promise runs on the client's goroutines.
type tally struct {
	sent atomic.Int64

	mu       sync.Mutex
	ok       int64
	failed   int64
	firstErr error
	parts    map[int32]*partitionTally
}

// partitionTally is the delivered range of one partition.
type partitionTally struct {
	records     int64
	first, last int64
}

func newTally() *tally { return &tally{parts: make(map[int32]*partitionTally)} }

// promise is the kgo produce callback.
func (t *tally) promise(r *kgo.Record, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed++
		if t.firstErr == nil {
			t.firstErr = err
		}
		return
	}
	t.ok++
	p := t.parts[r.Partition]
	if p == nil {
		p = &partitionTally{first: r.Offset, last: r.Offset}
		t.parts[r.Partition] = p
	}
	p.records++
	p.first, p.last = min(p.first, r.Offset), max(p.last, r.Offset)
}

// report prints the summary (and with verbose, per-partition offsets) and
// returns an error when any record failed.
func (t *tally) report(w io.Writer, topic string, verbose, offsetsKnown bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	sent := t.sent.Load()
	fmt.Fprintf(w, "produced %d of %d records to topic %q\n", t.ok, sent, topic)
	if verbose {
		if err := t.printPartitions(w, offsetsKnown); err != nil {
			return err
		}
	}
	if t.failed > 0 {
		return fmt.Errorf("%d of %d records were not produced: %w", t.failed, sent,
			clientcmd.TopicError(topic, t.firstErr, ""))
	}
	return nil
}

func (t *tally) printPartitions(w io.Writer, offsetsKnown bool) error {
	tw := clientcmd.NewTable(w, "PARTITION", "RECORDS", "FIRST-OFFSET", "LAST-OFFSET")
	ids := make([]int32, 0, len(t.parts))
	for id := range t.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := t.parts[id]
		if offsetsKnown {
			tw.Row(id, p.records, p.first, p.last)
		} else {
			tw.Row(id, p.records, "-", "-") // acks=0: the broker does not answer
		}
	}
	return tw.Flush()
}
