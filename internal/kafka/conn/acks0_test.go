package conn_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func produceTo(acks int16, topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// TestAcksZeroErrorClosesConnection: an acks=0 produce that a partition
// refuses closes its connection, as Kafka does, once the answers to the
// requests before it are written; one that succeeds leaves it open.
func TestAcksZeroErrorClosesConnection(t *testing.T) {
	n := nodetest.Start(t, func(o *node.Options) { o.Handler.AutoCreateTopics = false })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	good := storagetest.Build(storagetest.Spec{Records: 2, NoProducer: true})
	tests := []struct {
		name   string
		req    *kmsg.ProduceRequest
		closed bool
	}{
		{"success keeps the connection", produceTo(0, "t", 0, good), false},
		{"unknown topic, auto-create off", produceTo(0, "nope", 0, good), true},
		{"unknown partition", produceTo(0, "t", 5, good), true},
		{"corrupt batch", produceTo(0, "t", 0, good[:len(good)-1]), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := nodetest.Dial(t, n)
			// A request pipelined before the produce is still answered.
			before := kmsg.NewPtrApiVersionsRequest()
			c.Send(before, 3)
			c.Send(tt.req, 9)
			if resp := c.Read(before, 3).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
				t.Fatalf("api versions: code %d", resp.ErrorCode)
			}
			if !tt.closed {
				after := kmsg.NewPtrApiVersionsRequest()
				if resp := c.Request(after, 3).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
					t.Fatalf("api versions after the produce: code %d", resp.ErrorCode)
				}
				return
			}
			if !c.Closed(10 * time.Second) {
				t.Fatal("the connection stayed open after a failed acks=0 produce")
			}
		})
	}
}
