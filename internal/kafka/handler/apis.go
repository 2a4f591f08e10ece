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

// controllerTable is what the CONTROLLER listener serves: ApiVersions,
// the metadata log for brokers that follow it (controller_metadata.go),
// the admin requests brokers forward, broker registration and producer id
// blocks (controller_brokers.go).
var controllerTable = controllerAPIs()

// Endpoint is the listener a Broker value serves.
type Endpoint uint8

// The endpoints.
const (
	ClientEndpoint     Endpoint = iota // the client listener: apiTable
	ControllerEndpoint                 // the CONTROLLER listener: controllerTable
)

// table is the API table of an endpoint.
func table(ep Endpoint) []api {
	if ep == ControllerEndpoint {
		return controllerTable
	}
	return apiTable
}

// controllerAPIs builds controllerTable.
func controllerAPIs() []api {
	t := make([]api, kmsg.MaxKey+1)
	set := func(key int16, min int16, h func(*Broker, *Request) *Reply) {
		t[key] = api{min: min, max: kmsg.RequestForKey(key).MaxVersion(), handle: h}
	}
	set(1, 4, handleMetadataFetch)
	set(18, 0, handleAPIVersions)
	set(19, 0, handleCreateTopics)
	set(20, 0, handleDeleteTopics)
	set(33, 0, handleAlterConfigs)
	set(37, 0, handleCreatePartitions)
	set(43, 0, handleElectLeaders)
	set(44, 0, handleIncrementalAlterConfigs)
	set(55, 0, handleDescribeQuorum)
	set(56, 0, handleAlterPartition)
	set(57, 0, handleUpdateFeatures)
	set(59, 0, handleMetadataSnapshot)
	set(62, 0, handleBrokerRegistration)
	set(63, 0, handleBrokerHeartbeat)
	set(67, 0, handleAllocateProducerIDs)
	return t
}

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
	set(8, 0, handleOffsetCommit)
	set(9, 0, handleOffsetFetch)
	set(10, 0, handleFindCoordinator)
	set(11, 0, handleJoinGroup)
	set(12, 0, handleHeartbeat)
	set(13, 0, handleLeaveGroup)
	set(14, 0, handleSyncGroup)
	set(15, 0, handleDescribeGroups)
	set(16, 0, handleListGroups)
	set(18, 0, handleAPIVersions)
	set(19, 0, handleCreateTopics)
	set(20, 0, handleDeleteTopics)
	set(21, 0, handleDeleteRecords)
	set(22, 0, handleInitProducerID)
	set(23, 0, handleOffsetForLeaderEpoch)
	set(24, 0, handleAddPartitionsToTxn)
	set(25, 0, handleAddOffsetsToTxn)
	set(26, 0, handleEndTxn)
	set(27, 0, handleWriteTxnMarkers)
	set(28, 0, handleTxnOffsetCommit)
	set(29, 0, handleDescribeAcls)
	set(30, 0, handleCreateAcls)
	set(31, 0, handleDeleteAcls)
	set(32, 0, handleDescribeConfigs)
	set(33, 0, handleAlterConfigs)
	set(35, 0, handleDescribeLogDirs)
	set(37, 0, handleCreatePartitions)
	set(42, 0, handleDeleteGroups)
	set(43, 0, handleElectLeaders)
	set(44, 0, handleIncrementalAlterConfigs)
	set(47, 0, handleOffsetDelete)
	set(55, 0, handleDescribeQuorum)
	set(57, 0, handleUpdateFeatures)
	set(60, 0, handleDescribeCluster)
	set(61, 0, handleDescribeProducers)
	set(65, 0, handleDescribeTransactions)
	set(66, 0, handleListTransactions)
	set(68, 0, handleConsumerGroupHeartbeat)
	set(69, 0, handleConsumerGroupDescribe)
	set(75, 0, handleDescribeTopicPartitions)
	return t
}
