package cluster

import (
	"fmt"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// num.replica.fetchers spreads a leader's partitions over its fetchers:
// every slot is in range, one fetcher takes everything, and many
// partitions use every slot.
func TestFetcherSlots(t *testing.T) {
	used := map[int]int{}
	for i := range 64 {
		tp := model.TopicPartition{Topic: fmt.Sprintf("t%d", i%5), Partition: int32(i)}
		if s := slot(tp, 1); s != 0 {
			t.Fatalf("one fetcher: %s in slot %d", tp, s)
		}
		s := slot(tp, 4)
		if s < 0 || s >= 4 {
			t.Fatalf("%s in slot %d of 4", tp, s)
		}
		if slot(tp, 4) != s {
			t.Fatalf("%s moves between slots", tp)
		}
		used[s]++
	}
	if len(used) != 4 {
		t.Fatalf("64 partitions use slots %v of 4", used)
	}
}
