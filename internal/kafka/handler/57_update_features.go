package handler

// UpdateFeatures, versions 0-2 (KIP-584, KIP-778, KIP-1022).
//
// Finalizes feature levels, as kafka-features.sh upgrade and downgrade
// ask: all updates or none, validated as Kafka's FeatureControlManager
// does (controller.UpdateFeatures). The first refused update fails the
// request with INVALID_UPDATE_VERSION and its reason at the top level;
// on success v0-1 list every feature with NONE. v0's allow_downgrade
// means a safe downgrade; v1 replaces it with an upgrade type and adds
// validate_only; v2 drops the per-feature results. The finalized levels
// reach clients through ApiVersions (18_api_versions.go).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
)

func handleUpdateFeatures(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.UpdateFeaturesRequest)
	updates := make([]controller.FeatureUpdate, len(req.FeatureUpdates))
	for i, u := range req.FeatureUpdates {
		typ := u.UpgradeType
		if req.GetVersion() == 0 {
			typ = controller.UpgradeOnly
			if u.AllowDowngrade {
				typ = controller.SafeDowngrade
			}
		}
		updates[i] = controller.FeatureUpdate{Name: u.Feature, Level: u.MaxVersionLevel, Type: typ}
	}
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrUpdateFeaturesResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), timeoutOr(req.TimeoutMillis, 60*time.Second))
		defer cancel()
		code, msg, err := b.Controller.UpdateFeatures(ctx, updates, req.ValidateOnly)
		switch {
		case err != nil:
			resp.ErrorCode, resp.ErrorMessage = controllerErrorCode(err), errorMessage(err)
		case code != nil:
			resp.ErrorCode, resp.ErrorMessage = code.Code, kmsg.StringPtr(msg)
		case req.GetVersion() <= 1:
			for _, u := range updates {
				res := kmsg.NewUpdateFeaturesResponseResult()
				res.Feature = u.Name
				resp.Results = append(resp.Results, res)
			}
		}
		return resp
	})
}
