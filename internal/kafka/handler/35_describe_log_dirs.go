package handler

// DescribeLogDirs, versions 0-5.
//
// Sluice keeps every partition in one data directory, so the answer is
// that directory (absolute path) with each local partition asked for (all
// of them for a null topic list) and its size on disk, grouped by topic,
// as Kafka's ReplicaManager.describeLogDirs does. offset_lag is 0 and
// is_future false: there are no future replicas (no
// AlterReplicaLogDirs). v3 adds a top-level error code; v4 the total and
// usable bytes of the directory's file system (KIP-827; -1 when they
// cannot be read); v5 is_cordoned, always false.

import (
	"math"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

func handleDescribeLogDirs(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeLogDirsRequest)
	resp := kmsg.NewPtrDescribeLogDirsResponse()
	resp.SetVersion(req.GetVersion())
	parts := b.Replicas.All()
	dir := b.logDir(parts)
	if dir == "" {
		return Now(resp)
	}
	d := kmsg.NewDescribeLogDirsResponseDir()
	d.Dir = dir
	d.TotalBytes, d.UsableBytes = fileSystemBytes(dir)
	d.Topics = logDirTopics(parts, wantedPartitions(req))
	resp.Dirs = append(resp.Dirs, d)
	return Now(resp)
}

// wantedPartitions returns the partitions asked for, or nil for all.
func wantedPartitions(req *kmsg.DescribeLogDirsRequest) func(model.TopicPartition) bool {
	if req.Topics == nil {
		return func(model.TopicPartition) bool { return true }
	}
	want := map[model.TopicPartition]bool{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			want[model.TopicPartition{Topic: t.Topic, Partition: p}] = true
		}
	}
	return func(tp model.TopicPartition) bool { return want[tp] }
}

// logDirTopics lists the wanted local partitions by topic, sorted.
func logDirTopics(parts map[model.TopicPartition]*replica.Partition, want func(model.TopicPartition) bool) []kmsg.DescribeLogDirsResponseDirTopic {
	byTopic := map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
	for tp, p := range parts {
		if !want(tp) {
			continue
		}
		dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		dp.Partition, dp.Size = tp.Partition, p.Log().Size()
		byTopic[tp.Topic] = append(byTopic[tp.Topic], dp)
	}
	topics := make([]kmsg.DescribeLogDirsResponseDirTopic, 0, len(byTopic))
	for name, ps := range byTopic {
		slices.SortFunc(ps, func(a, b kmsg.DescribeLogDirsResponseDirTopicPartition) int { return int(a.Partition - b.Partition) })
		t := kmsg.NewDescribeLogDirsResponseDirTopic()
		t.Topic, t.Partitions = name, ps
		topics = append(topics, t)
	}
	slices.SortFunc(topics, func(a, b kmsg.DescribeLogDirsResponseDirTopic) int { return strings.Compare(a.Topic, b.Topic) })
	return topics
}

// logDir is the absolute data directory: Settings.LogDir, else the
// directory holding the partition logs.
func (b *Broker) logDir(parts map[model.TopicPartition]*replica.Partition) string {
	dir := b.Settings.LogDir
	if dir == "" {
		for _, p := range parts {
			dir = filepath.Dir(p.Log().Dir())
			break
		}
	}
	if dir == "" {
		return ""
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

// fileSystemBytes returns the total and usable bytes of the file system
// holding dir, -1 each when unknown. A size that overflows int64 is
// reported as math.MaxInt64, as Kafka does.
func fileSystemBytes(dir string) (total, usable int64) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1, -1
	}
	size := func(blocks uint64) int64 {
		bsize := uint64(st.Bsize)
		if bsize != 0 && blocks > math.MaxInt64/bsize {
			return math.MaxInt64
		}
		return int64(blocks * bsize)
	}
	return size(uint64(st.Blocks)), size(uint64(st.Bavail))
}
