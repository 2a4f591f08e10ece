package storage

import "github.com/sluice-io/sluice/internal/model"

// SnapshotHooks let the owner of the producer state (internal/replica)
// snapshot it at the moments Kafka does: when a segment rolls and when the
// log closes. A plain value.
type SnapshotHooks struct {
	// Rolled runs after a new active segment begins at base, under the
	// log's writer lock: it must not block and must not call the Log (the
	// replica only raises a flag and writes the snapshot once it holds its
	// own lock again).
	Rolled func(base model.Offset)
	// Closing runs at the start of Close, before the log takes any lock;
	// it may call WriteProducerSnapshot and read the Log.
	Closing func()
}

// SetSnapshotHooks installs h (replacing earlier hooks). Safe for
// concurrent use.
func (l *Log) SetSnapshotHooks(h SnapshotHooks) { l.snapHooks.Store(&h) }

// rolled calls the Rolled hook, if any. Called under mu.
func (l *Log) rolled(base model.Offset) {
	if h := l.snapHooks.Load(); h != nil && h.Rolled != nil {
		h.Rolled(base)
	}
}

// closing calls the Closing hook, if any. Called without locks.
func (l *Log) closing() {
	if h := l.snapHooks.Load(); h != nil && h.Closing != nil {
		h.Closing()
	}
}
