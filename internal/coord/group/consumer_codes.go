package group

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka error codes of the consumer group protocol (KIP-848), beside
// those the classic protocol shares (codes.go).
var (
	codeInvalidRequest           = kerr.InvalidRequest.Code
	codeUnsupportedVersion       = kerr.UnsupportedVersion.Code
	codeFencedMemberEpoch        = kerr.FencedMemberEpoch.Code
	codeUnreleasedInstanceID     = kerr.UnreleasedInstanceID.Code
	codeUnsupportedAssignor      = kerr.UnsupportedAssignor.Code
	codeStaleMemberEpoch         = kerr.StaleMemberEpoch.Code
	codeInvalidRegularExpression = kerr.InvalidRegularExpression.Code
)

// cgError is a consumer group protocol outcome with Kafka's message.
type cgError struct {
	code int16
	msg  string
}

func cgErrorf(code int16, format string, args ...any) *cgError {
	return &cgError{code: code, msg: fmt.Sprintf(format, args...)}
}
