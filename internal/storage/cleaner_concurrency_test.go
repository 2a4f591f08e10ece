package storage

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// scanLog reads every batch from the log start to the log end through
// Read and checks CRCs and increasing offsets, without testing.T (it runs
// in other goroutines).
func scanLog(l *Log) error {
	next, end := l.LogStartOffset(), l.LogEndOffset()
	for next < end {
		c, err := l.Read(next, 256<<10, true)
		if err != nil {
			return fmt.Errorf("Read(%d): %w", next, err)
		}
		if c.Empty() {
			return fmt.Errorf("Read(%d): empty before %d", next, end)
		}
		b := make([]byte, c.Size)
		if _, err := c.ReadAt(b, 0); err != nil {
			return fmt.Errorf("read chunk at %d: %w", next, err)
		}
		var bad error
		good, _ := batch.ScanStored(b, func(h batch.Header) error {
			if model.Offset(h.LastOffset()) < next && bad == nil {
				bad = fmt.Errorf("batch [%d,%d] before %d", h.BaseOffset(), h.LastOffset(), next)
			}
			next = model.Offset(h.NextOffset())
			return nil
		})
		if bad != nil {
			return bad
		}
		if good != len(b) {
			return fmt.Errorf("chunk at %d: %d good bytes of %d", c.FirstOffset, good, len(b))
		}
	}
	return nil
}

func TestCleanWhileAppendingAndReading(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 8 << 10
	cfg.FileDeleteDelayMs = 60_000 // Chunks of replaced segments stay readable
	cfg.MinCleanableDirtyRatio = 0
	l := newTestLog(t, cfg)
	var mu sync.Mutex
	m := map[string]latest{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the producer
		defer wg.Done()
		defer close(done)
		for i := range 1500 {
			recs := []kv{{keyOf(i % 200), fmt.Appendf(nil, "v%d", i)}, {keyOf((i * 7) % 200), fmt.Appendf(nil, "w%d", i)}}
			bld := batch.NewBuilder(batch.NewBatchInfo(allCodecs[i%len(allCodecs)]))
			for _, r := range recs {
				bld.Add(&batch.Record{Timestamp: t0 + int64(i), Key: r.key, Value: r.value})
			}
			b, err := bld.Build(nil)
			var base model.Offset
			if err == nil {
				base, err = l.Append(b, 0)
			}
			if err != nil {
				t.Errorf("append %d: %v", i, err)
				return
			}
			mu.Lock()
			for j, r := range recs {
				m[string(r.key)] = latest{base + model.Offset(j), r.value}
			}
			mu.Unlock()
		}
	}()
	go func() { // a consumer reading from the start again and again
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := scanLog(l); err != nil {
				t.Errorf("concurrent read: %v", err)
				return
			}
		}
	}()
	passes := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		st, err := l.Clean(t0 + 10_000)
		if err != nil {
			t.Fatalf("Clean: %v", err)
		}
		if st.Cleaned {
			passes++
		}
	}
	wg.Wait()
	rollNow(t, l)
	mustClean(t, l, t0+10_000)
	recs, _ := readRecords(t, l)
	checkCompacted(t, recs, m, l.LogEndOffset(), true)
	t.Logf("%d passes during 1500 appends; %d records left", passes, len(recs))
	if passes == 0 {
		t.Errorf("no pass ran during the appends")
	}
}

func TestChunkOfReplacedSegmentStaysReadable(t *testing.T) {
	cfg := compactConfig()
	cfg.FileDeleteDelayMs = 60_000
	l := newTestLog(t, cfg)
	(&workload{keys: 10, updates: 3000, perBatch: 10}).write(t, l)
	rollNow(t, l)
	c, err := l.Read(0, 64<<10, true)
	if err != nil {
		t.Fatal(err)
	}
	want := chunkBytes(t, c)
	if st := mustClean(t, l, t0); !st.Cleaned {
		t.Fatalf("no pass: %+v", st)
	}
	if got := chunkBytes(t, c); !sameBytes(got, want) {
		t.Errorf("a Chunk read before the pass changed under it")
	}
	splitBatches(t, want)
}

func TestCloseDuringClean(t *testing.T) {
	cfg := compactConfig()
	l := newTestLog(t, cfg)
	(&workload{keys: 100, updates: 20_000, perBatch: 20}).write(t, l)
	rollNow(t, l)
	started, proceed := make(chan struct{}), make(chan struct{})
	l.cleaner.hook = func(s cleanStep) error {
		if s == stepCleaned {
			close(started)
			<-proceed
		}
		return nil
	}
	errc := make(chan error, 2)
	go func() {
		_, err := l.Clean(t0)
		errc <- err
	}()
	<-started
	go func() { errc <- l.Close() }()
	for closing := false; !closing; runtime.Gosched() { // await Close having begun
		l.mu.Lock()
		closing = l.closed
		l.mu.Unlock()
	}
	close(proceed)
	for range 2 {
		if err := <-errc; err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("Clean or Close: %v", err)
		}
	}
	checkNoLeftovers(t, l.Dir())
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := scanLog(l2); err != nil {
		t.Fatal(err)
	}
}
