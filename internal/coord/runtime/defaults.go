package runtime

import "log/slog"

// Default sets *p to d unless *p is positive: a coordinator setting left
// zero where zero cannot be meant takes Kafka's default.
func Default[T ~int | ~int16 | ~int32 | ~int64](p *T, d T) {
	if *p <= 0 {
		*p = d
	}
}

// DefaultClockLogger sets a nil clock to the wall clock and a nil logger
// to one that discards.
func DefaultClockLogger(clock *Clock, logger **slog.Logger) {
	if *clock == nil {
		*clock = SystemClock{}
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
}
