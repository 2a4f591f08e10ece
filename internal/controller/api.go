package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// API is what brokers ask of the active controller: the in-process
// Controller on a node that is a voter, Remote on a broker that is not
// (its requests go to a voter's CONTROLLER listener).
type API interface {
	CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]TopicResult, error)
	DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) ([]TopicResult, error)
	CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) ([]TopicResult, error)
	AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) ([]ConfigResult, error)
	IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) ([]ConfigResult, error)
	UpdateFeatures(ctx context.Context, updates []FeatureUpdate, validateOnly bool) (*kerr.Error, string, error)
	AllocateProducerIDs(ctx context.Context, broker model.NodeID, count int) (first int64, err error)
	// Register registers (or re-registers) a broker and its endpoint.
	Register(ctx context.Context, b metadata.BrokerRecord) error
	// AlterPartition commits a leader's ISR proposal; the code says why
	// not (alter_partition.go).
	AlterPartition(ctx context.Context, u ISRUpdate) (*kerr.Error, error)
	// ElectLeaders runs preferred or unclean elections (elect_leaders.go).
	ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) ([]ElectResult, error)
}

var _ API = (*Controller)(nil)
