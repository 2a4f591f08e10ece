package controller

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

func TestAllocateProducerIDs(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1, 2)
	ctx := context.Background()
	steps := []struct {
		broker    model.NodeID
		count     int
		wantFirst int64
		wantErr   error
	}{
		{1, 1000, 0, nil},
		{2, 1000, 1000, nil},
		{1, 10, 2000, nil},
		{9, 10, 0, ErrUnknownBroker},
		{1, 5, 2010, nil},
	}
	for i, s := range steps {
		first, err := tc.c.AllocateProducerIDs(ctx, s.broker, s.count)
		if !errors.Is(err, s.wantErr) || (err == nil && first != s.wantFirst) {
			t.Fatalf("step %d: got %d, %v; want %d, %v", i, first, err, s.wantFirst, s.wantErr)
		}
	}
	if got := tc.pub.Current().NextProducerID; got != 2015 {
		t.Fatalf("NextProducerID = %d, want 2015", got)
	}
}

func TestAllocateProducerIDsExhausted(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1)
	data, _ := metadata.EncodeEntry([]metadata.Record{{ProducerIDs: &metadata.ProducerIDsRecord{Broker: 1, NextID: math.MaxInt64 - 5}}})
	if _, err := tc.q.Propose(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.c.AllocateProducerIDs(context.Background(), 1, 10); !errors.Is(err, ErrProducerIDsExhausted) {
		t.Fatalf("err = %v, want ErrProducerIDsExhausted", err)
	}
	if _, err := tc.c.AllocateProducerIDs(context.Background(), 1, 0); err == nil {
		t.Fatal("a block of 0 ids was allocated")
	}
}

// TestAllocateProducerIDsConcurrent: blocks never overlap.
func TestAllocateProducerIDsConcurrent(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1)
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			first, err := tc.c.AllocateProducerIDs(context.Background(), 1, 100)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || first%100 != 0 || seen[first] {
				t.Errorf("block %d, %v: overlapping or misaligned", first, err)
			}
			seen[first] = true
		})
	}
	wg.Wait()
}
