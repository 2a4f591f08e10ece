package clientcmd

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// DescribeTopic returns the metadata of one topic, or an error that says
// the topic does not exist (or what else the cluster answered).
func DescribeTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("describe topic %q: %w", topic, err)
	}
	td, ok := tds[topic]
	if !ok {
		return kadm.TopicDetail{}, fmt.Errorf("describe topic %q: metadata response did not include it", topic)
	}
	if td.Err != nil {
		return kadm.TopicDetail{}, TopicError(topic, td.Err, "")
	}
	return td, nil
}

// CheckPartition returns a UsageError when p is not a partition of td.
func CheckPartition(td kadm.TopicDetail, p int32) error {
	if _, ok := td.Partitions[p]; ok {
		return nil
	}
	n := len(td.Partitions)
	return Usagef("--partition %d: topic %q has %d partitions (0-%d)", p, td.Topic, n, n-1)
}
