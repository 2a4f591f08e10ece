package group

import "github.com/sluice-io/sluice/internal/coord/runtime"

// Partition is the __consumer_offsets partition that holds groupID, as
// Kafka computes it (runtime.Partition).
func Partition(groupID string, partitions int32) int32 { return runtime.Partition(groupID, partitions) }
