package cluster

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/metadata"
)

// A broker that starts before its controllers waits for them: CatchUp
// asks again until its context ends instead of failing at the first
// refused connection (a cluster started all at once lost its brokers).
func TestCatchUpWaitsForUnreachableVoters(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f, err := NewMetadataFollower([]string{addr}, metadata.NewPublisher())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = f.CatchUp(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CatchUp with no voter up: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Fatalf("CatchUp gave up after %v, before its context ended", took)
	}
}
