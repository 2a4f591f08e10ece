package replica

import (
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestAppendHeldWakesOnlyOnWake(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	woken := make(chan struct{}, 1)
	p.Watch(woken)
	defer p.Unwatch(woken)

	if _, _, err := p.AppendHeld(storagetest.Batch(2, 8, testNow), testNow, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
		t.Fatal("AppendHeld woke the watcher before Wake")
	default:
	}
	p.Wake()
	select {
	case <-woken:
	default:
		t.Fatal("Wake did not signal the watcher")
	}

	if _, _, err := p.Append(storagetest.Batch(1, 8, testNow), testNow); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	default:
		t.Fatal("Append did not signal the watcher")
	}
}
