package integration

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// Replies on one connection come back in request order, whether the
// connection's reader writes a ready reply itself or the writer sends it
// after one still waiting: a long-polling fetch sent first holds back the
// ApiVersions and Metadata answers pipelined behind it, and once it is
// answered a lone ApiVersions is answered directly.
func TestPipelinedRepliesKeepRequestOrder(t *testing.T) {
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, 2, 1, nil, "quiet"); err != nil {
		t.Fatal(err)
	}
	c := dial(t, n)
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw"))

	fetch := fetchFromStart("quiet", 2, 300*time.Millisecond, 1)

	// AppendRequest sizes the frame from the start of dst: one call each.
	frames := f.AppendRequest(nil, fetch, 1) // waits MaxWaitMillis: nothing to read
	for id := int32(2); id <= 4; id++ {
		av := kmsg.NewPtrApiVersionsRequest()
		av.SetVersion(3)
		frames = append(frames, f.AppendRequest(nil, av, id)...)
	}
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(9)
	frames = append(frames, f.AppendRequest(nil, md, 5)...)
	start := time.Now()
	c.send(frames) // one write: the server reads them back to back
	for want := int32(1); want <= 5; want++ {
		got := int32(binary.BigEndian.Uint32(c.readFrame()))
		if got != want {
			t.Fatalf("reply %d carries correlation id %d: replies out of request order", want, got)
		}
		if want == 1 && time.Since(start) < 250*time.Millisecond {
			t.Fatalf("fetch answered after %v, before its 300 ms wait: the test needs it to wait", time.Since(start))
		}
	}
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	c.send(f.AppendRequest(nil, av, 6))
	if got := int32(binary.BigEndian.Uint32(c.readFrame())); got != 6 {
		t.Fatalf("lone ApiVersions answered with correlation id %d, want 6", got)
	}
}
