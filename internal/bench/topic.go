package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicWait bounds how long a new topic may take to show up with a leader
// for every partition.
const topicWait = 15 * time.Second

// ensureTopic creates the topic with want partitions unless it exists, and
// returns its partition count once every partition has a leader, with a
// note when an existing topic's count differs from want.
func ensureTopic(ctx context.Context, cl *kgo.Client, topic string, want int32) (int32, []string, error) {
	n, err := topicPartitions(ctx, cl, topic)
	switch {
	case err == nil:
		var notes []string
		if n != want {
			notes = append(notes, fmt.Sprintf("topic %q already exists with %d partitions (not %d): using %d", topic, n, want, n))
		}
		return n, notes, nil
	case !errors.Is(err, kerr.UnknownTopicOrPartition):
		return 0, nil, err
	}
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, want, -1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, nil, fmt.Errorf("create topic %q: %w (%s)", topic, err, resp.ErrMessage)
	}
	n, err = waitTopic(ctx, cl, topic)
	return n, nil, err
}

// topicPartitions is the partition count of an existing topic whose
// partitions all have a leader. It asks a broker directly: kadm answers
// from the client's metadata cache, which keeps a topic unknown for up to
// MetadataMinAge (5 s) after it is created.
func topicPartitions(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("describe topic %q: %w", topic, err)
	}
	if len(resp.Topics) != 1 {
		return 0, fmt.Errorf("describe topic %q: %d topics in the metadata response", topic, len(resp.Topics))
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
		return 0, fmt.Errorf("topic %q: %w", topic, err)
	}
	for _, p := range t.Partitions {
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil || p.Leader < 0 {
			return 0, fmt.Errorf("topic %q partition %d has no leader: %w", topic, p.Partition, kerr.LeaderNotAvailable)
		}
	}
	if len(t.Partitions) == 0 {
		return 0, fmt.Errorf("topic %q has no partitions yet: %w", topic, kerr.LeaderNotAvailable)
	}
	return int32(len(t.Partitions)), nil
}

// waitTopic waits for a just created topic to be served.
func waitTopic(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, topicWait)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := topicPartitions(ctx, cl, topic)
		if err == nil {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for topic %q: %w", topic, err)
		case <-t.C:
		}
	}
}

// initProducerIDKey is the API key of InitProducerId, which an idempotent
// producer needs.
var initProducerIDKey = kmsg.InitProducerID.Int16()

// idempotenceSupported reports whether every broker serves InitProducerId.
// franz-go silently produces without idempotence when it is missing; the
// benchmark says so instead.
func idempotenceSupported(ctx context.Context, cl *kgo.Client) (bool, error) {
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return false, fmt.Errorf("api versions: %w", err)
	}
	ok := len(vs) > 0
	for _, v := range vs {
		if v.Err != nil {
			return false, fmt.Errorf("api versions of broker %d: %w", v.NodeID, v.Err)
		}
		if _, has := v.KeyMaxVersion(initProducerIDKey); !has {
			ok = false
		}
	}
	return ok, nil
}
