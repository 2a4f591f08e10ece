package metadata

import (
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// TestListenersRunBeforePublish: while a listener runs, Current still
// returns the previous image, so no reader sees a topic before the
// listeners (the replica reconciler above all) have acted on it.
func TestListenersRunBeforePublish(t *testing.T) {
	p := NewPublisher()
	var during *Image
	p.Subscribe(func(prev, next *Image) {
		if next.Index > 0 {
			during = p.Current()
			if during != prev {
				t.Errorf("Current during the listener is not the previous image")
			}
		}
	})
	entry, err := EncodeEntry([]Record{{Topic: &TopicRecord{Name: "t", ID: model.NewTopicID()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(1, entry); err != nil {
		t.Fatal(err)
	}
	if during == nil || during.Topics["t"] != nil {
		t.Fatal("listener did not run before the topic became visible")
	}
	if p.Current().Topics["t"] == nil {
		t.Fatal("topic not published after Apply")
	}
}
