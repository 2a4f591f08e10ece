package controller

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Router is the controller of a voter in a quorum of several: the local
// Controller while it is active, else the active one through Remote (a
// voter that loses leadership mid-operation passes the operation on too).
// Safe for concurrent use.
type Router struct {
	local  *Controller
	remote *Remote
}

var _ API = (*Router)(nil)

// NewRouter routes between the voter's own controller and the others.
func NewRouter(local *Controller, remote *Remote) *Router {
	return &Router{local: local, remote: remote}
}

// route runs op on the local controller when it is active, else (or when
// it stopped being active before it wrote) on the remote one.
func route[T any](r *Router, op func(API) (T, error)) (T, error) {
	if r.local.Active() {
		v, err := op(r.local)
		if !errors.Is(err, ErrNotActive) {
			return v, err
		}
	}
	return op(r.remote)
}

func (r *Router) CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]TopicResult, error) {
	return route(r, func(a API) ([]TopicResult, error) { return a.CreateTopics(ctx, req) })
}

func (r *Router) DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) ([]TopicResult, error) {
	return route(r, func(a API) ([]TopicResult, error) { return a.DeleteTopics(ctx, req) })
}

func (r *Router) CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) ([]TopicResult, error) {
	return route(r, func(a API) ([]TopicResult, error) { return a.CreatePartitions(ctx, req) })
}

func (r *Router) AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) ([]ConfigResult, error) {
	return route(r, func(a API) ([]ConfigResult, error) { return a.AlterConfigs(ctx, req) })
}

func (r *Router) IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) ([]ConfigResult, error) {
	return route(r, func(a API) ([]ConfigResult, error) { return a.IncrementalAlterConfigs(ctx, req) })
}

func (r *Router) UpdateFeatures(ctx context.Context, updates []FeatureUpdate, validateOnly bool) (*kerr.Error, string, error) {
	type answer struct {
		code *kerr.Error
		msg  string
	}
	a, err := route(r, func(a API) (answer, error) {
		code, msg, err := a.UpdateFeatures(ctx, updates, validateOnly)
		return answer{code, msg}, err
	})
	return a.code, a.msg, err
}

func (r *Router) AllocateProducerIDs(ctx context.Context, broker model.NodeID, count int) (int64, error) {
	return route(r, func(a API) (int64, error) { return a.AllocateProducerIDs(ctx, broker, count) })
}

func (r *Router) Register(ctx context.Context, b metadata.BrokerRecord) error {
	_, err := route(r, func(a API) (struct{}, error) { return struct{}{}, a.Register(ctx, b) })
	return err
}

func (r *Router) AlterPartition(ctx context.Context, u ISRUpdate) (*kerr.Error, error) {
	return route(r, func(a API) (*kerr.Error, error) { return a.AlterPartition(ctx, u) })
}

func (r *Router) ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) ([]ElectResult, error) {
	return route(r, func(a API) ([]ElectResult, error) { return a.ElectLeaders(ctx, req) })
}
