package handler

import "github.com/twmb/franz-go/pkg/kmsg"

// api is one served Kafka API: its version range and handler.
type api struct {
	min, max int16
	handle   func(*Broker, *Request) *Reply
}

// apiTable is every API Sluice serves, indexed by API key. ApiVersions
// advertises exactly this table (apis_test.go proves it).
//
// Minimum versions: record-carrying APIs start where the v2 record batch
// starts (Produce v3, Fetch v4) and ListOffsets at v1, as Kafka 4 does
// (KIP-896); every other API is served from v0, as Kafka 3.x did, so old
// clients keep working. Maximums are the highest kmsg knows.
var apiTable = apis()

// apis builds the table. ApiVersions calls it rather than reading apiTable,
// which would make the table's initializer refer to itself.
func apis() []api {
	t := make([]api, kmsg.MaxKey+1)
	set := func(key int16, min int16, h func(*Broker, *Request) *Reply) {
		t[key] = api{min: min, max: kmsg.RequestForKey(key).MaxVersion(), handle: h}
	}
	set(0, 3, handleProduce)
	set(1, 4, handleFetch)
	set(2, 1, handleListOffsets)
	set(3, 0, handleMetadata)
	set(18, 0, handleAPIVersions)
	set(19, 0, handleCreateTopics)
	set(20, 0, handleDeleteTopics)
	set(21, 0, handleDeleteRecords)
	set(23, 0, handleOffsetForLeaderEpoch)
	set(32, 0, handleDescribeConfigs)
	set(33, 0, handleAlterConfigs)
	set(35, 0, handleDescribeLogDirs)
	set(37, 0, handleCreatePartitions)
	set(44, 0, handleIncrementalAlterConfigs)
	set(60, 0, handleDescribeCluster)
	return t
}
