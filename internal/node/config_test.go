package node

import (
	"io"
	"log/slog"
	"testing"

	"github.com/sluice-io/sluice/internal/config"
)

// TestFromConfigWriteback: sluice.log.writeback.bytes reaches the node
// (0 by default: no pacer).
func TestFromConfigWriteback(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		want int64
	}{
		{map[string]string{}, 0},
		{map[string]string{"sluice.log.writeback.bytes": "1048576"}, 1 << 20},
		{map[string]string{"sluice.log.writeback.bytes": "4194304"}, 4 << 20},
	} {
		tc.set["log.dirs"] = t.TempDir()
		cfg, _, err := config.Load("", tc.set)
		if err != nil {
			t.Fatal(err)
		}
		opts, err := FromConfig(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if opts.WritebackBytes != tc.want {
			t.Errorf("%v: WritebackBytes %d, want %d", tc.set, opts.WritebackBytes, tc.want)
		}
	}
}
