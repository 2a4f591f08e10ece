package runtime

import "time"

// timer is one armed shard timer.
type timer struct{ t Timer }

// Schedule arms a timer: after d, op runs as an operation of the shard.
// A timer already armed under key is replaced.
func (w *Writer) Schedule(key string, d time.Duration, op func(w *Writer)) {
	s := w.s
	if old := s.timers[key]; old != nil {
		old.t.Stop()
	}
	t := &timer{}
	s.timers[key] = t
	t.t = s.clock.AfterFunc(d, func() {
		// The error is the op's to handle through Then callbacks.
		_ = s.Run(func(w *Writer) {
			if s.timers[key] != t {
				return // cancelled or replaced after it fired
			}
			delete(s.timers, key)
			op(w)
		})
	})
}

// Cancel drops the timer armed under key, if any.
func (w *Writer) Cancel(key string) {
	if t := w.s.timers[key]; t != nil {
		t.t.Stop()
		delete(w.s.timers, key)
	}
}

// Scheduled reports whether a timer is armed under key.
func (w *Writer) Scheduled(key string) bool { return w.s.timers[key] != nil }
