package model

// Kafka's internal topics (Topic.INTERNAL_TOPICS): the coordinators keep
// their state in them. Clients may read them but never write, delete or
// resize them; only the coordinators append (issue 13, defect 4).
const (
	OffsetsTopic          = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
	ShareGroupStateTopic  = "__share_group_state"
)

// ClusterMetadataTopic is the metadata log's name (its directory is
// __cluster_metadata-0): no topic may take it.
const ClusterMetadataTopic = "__cluster_metadata"

// IsInternalTopic reports whether name is one of Kafka's internal topics
// (Topic.isInternal).
func IsInternalTopic(name string) bool {
	switch name {
	case OffsetsTopic, TransactionStateTopic, ShareGroupStateTopic:
		return true
	}
	return false
}
