package handler

// ApiVersions, versions 0-4 (and kmsg's max).
//
// Lists apiTable. A client asking with a version newer than we serve gets
// UNSUPPORTED_VERSION in a v0 response body listing our versions, so it can
// retry with one we know (KIP-511); the connection decodes such a request
// as v0 before it gets here. Flexible versions (v3+) also carry the client
// software name and version, which we only log. From v3 the tagged
// fields carry the supported feature ranges and the finalized levels
// (KIP-584), with the metadata image's index as the finalized epoch, as
// a Kafka 4 broker answers: kafka-features.sh describe reads them, and a
// client uses transactions v2 (KIP-890) once transaction.version is
// finalized at 2. A feature finalized at 0 is not listed.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
)

func handleAPIVersions(b *Broker, r *Request) *Reply {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(r.Msg.GetVersion())
	resp.ApiKeys = advertised(b.Settings.Endpoint)
	im := b.Metadata.Current()
	for _, f := range metadata.SupportedFeatures {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = f.Name, f.Min, f.Max
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	}
	resp.FinalizedFeaturesEpoch = int64(im.Index)
	levels := im.FinalizedFeatures()
	for _, f := range metadata.SupportedFeatures {
		if l := levels[f.Name]; l > 0 {
			ff := kmsg.NewApiVersionsResponseFinalizedFeature()
			ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = f.Name, l, l
			resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
		}
	}
	return Now(resp)
}

// UnsupportedAPIVersions is the answer to an ApiVersions request at a
// version newer than ep serves: a v0 response with UNSUPPORTED_VERSION and
// the served range, as Kafka answers.
func UnsupportedAPIVersions(ep Endpoint) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = advertised(ep)
	return resp
}

func advertised(ep Endpoint) []kmsg.ApiVersionsResponseApiKey {
	all := apis()
	if ep == ControllerEndpoint {
		all = controllerAPIs()
	}
	var keys []kmsg.ApiVersionsResponseApiKey
	for key, a := range all {
		if a.handle == nil {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = int16(key), a.min, a.max
		keys = append(keys, k)
	}
	return keys
}
