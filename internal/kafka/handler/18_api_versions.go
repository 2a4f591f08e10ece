package handler

// ApiVersions, versions 0-4 (and kmsg's max).
//
// Lists apiTable. A client asking with a version newer than we serve gets
// UNSUPPORTED_VERSION in a v0 response body listing our versions, so it can
// retry with one we know (KIP-511); the connection decodes such a request
// as v0 before it gets here. Flexible versions (v3+) also carry the client
// software name and version, which we only log. Feature levels
// (finalized_features) are left empty: Sluice has no feature flags yet.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleAPIVersions(b *Broker, r *Request) *Reply {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(r.Msg.GetVersion())
	resp.ApiKeys = advertised()
	return Now(resp)
}

// UnsupportedAPIVersions is the answer to an ApiVersions request at a
// version newer than served: a v0 response with UNSUPPORTED_VERSION and the
// served range, as Kafka answers.
func UnsupportedAPIVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = advertised()
	return resp
}

func advertised() []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for key, a := range apis() {
		if a.handle == nil {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = int16(key), a.min, a.max
		keys = append(keys, k)
	}
	return keys
}
