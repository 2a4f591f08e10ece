package metadata

import (
	"fmt"
	"testing"
)

func configEntry(t *testing.T, i int) []byte {
	t.Helper()
	v := fmt.Sprint(i)
	b, err := EncodeEntry([]Record{{Config: &ConfigRecord{ResourceType: 4, ResourceName: "", Key: "k", Value: &v}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A follower gets the entries after the index it applied, in order and
// bounded; one that fell behind the journal gets the image; one that is
// current gets nothing. Replaying what it gets gives the voter's image.
func TestFollowJournal(t *testing.T) {
	p := NewPublisher()
	if es, im := p.Follow(0, 1<<20); es != nil || im != nil {
		t.Fatal("something to follow in an empty log")
	}
	idx := uint64(0)
	for i := range 10 {
		idx += 2 // raft indexes have gaps (empty and conf-change entries)
		if err := p.Apply(idx, configEntry(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	es, im := p.Follow(7, 1<<20)
	if im != nil || len(es) != 7 || es[0].Index != 8 || es[6].Index != 20 {
		t.Fatalf("after 7: %d entries from %v, image %v", len(es), es, im != nil)
	}
	if es, _ := p.Follow(0, 1); len(es) != 1 || es[0].Index != 2 {
		t.Fatalf("maxBytes 1: %v", es)
	}
	if es, im := p.Follow(20, 1<<20); es != nil || im != nil {
		t.Fatal("something new for a follower that is current")
	}

	f := NewPublisher()
	for from := uint64(0); ; {
		es, im := p.Follow(from, 100)
		if im != nil {
			t.Fatal("image for a follower the journal covers")
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if err := f.Apply(e.Index, e.Data); err != nil {
				t.Fatal(err)
			}
			from = e.Index
		}
	}
	if got, want := f.Current().BrokerConfigs[""]["k"], p.Current().BrokerConfigs[""]["k"]; got != want || f.Current().Index != 20 {
		t.Fatalf("follower at %d with k=%q, voter k=%q", f.Current().Index, got, want)
	}

	for i := range journalCap {
		idx++
		if err := p.Apply(idx, configEntry(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	if es, im := p.Follow(18, 1<<20); es != nil || im == nil || im.Index != idx { // 2-20 were dropped: 20 is the floor
		t.Fatalf("behind the journal: %d entries, image %v", len(es), im)
	}
	snap, _ := p.Snapshot()
	if err := p.Restore(idx+5, snap); err != nil {
		t.Fatal(err)
	}
	if _, im := p.Follow(idx, 1<<20); im == nil {
		t.Fatal("no image for a follower below a restored snapshot")
	}
}
