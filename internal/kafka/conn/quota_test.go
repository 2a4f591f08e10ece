package conn

import (
	"log/slog"
	"math"
	"net/netip"
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name  string
		rate  int
		takes []time.Time
		waits []time.Duration
	}{
		{"no limit", math.MaxInt32, []time.Time{t0, t0, t0}, []time.Duration{0, 0, 0}},
		{"a second's burst, then spaced", 2, []time.Time{t0, t0, t0, ms(500)},
			[]time.Duration{0, 0, 500 * time.Millisecond, 500 * time.Millisecond}},
		{"refills with time", 2, []time.Time{t0, t0, ms(1000), ms(1000), ms(1000)},
			[]time.Duration{0, 0, 0, 0, 500 * time.Millisecond}},
		{"waits capped at a second", 1, []time.Time{t0, t0, t0}, []time.Duration{0, time.Second, time.Second}},
		{"zero rate: a second each", 0, []time.Time{t0, t0}, []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b tokenBucket
			b.setRate(tt.rate)
			for i, at := range tt.takes {
				if got := b.take(at); got != tt.waits[i] {
					t.Errorf("take %d: wait %v, want %v", i, got, tt.waits[i])
				}
			}
		})
	}
}

func TestResolveOverrides(t *testing.T) {
	got := resolveOverrides(map[string]int{"10.1.2.3": 4, "::ffff:10.1.2.4": 5, "localhost": 6}, slog.New(slog.DiscardHandler))
	for ip, want := range map[string]int{"10.1.2.3": 4, "10.1.2.4": 5, "127.0.0.1": 6} {
		if n, ok := got[mustAddr(t, ip)]; !ok || n != want {
			t.Errorf("%s: %d (%v), want %d", ip, n, ok, want)
		}
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
