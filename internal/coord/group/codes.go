package group

import "github.com/twmb/franz-go/pkg/kerr"

// Kafka error codes the group protocol answers with. They are the
// protocol's own outcomes (a member's generation is stale, the group is
// rebalancing), not failures of this broker, so the state machine speaks
// them directly; runtime failures are mapped in one place, runtimeCode.
var (
	codeCoordinatorNotAvailable      = kerr.CoordinatorNotAvailable.Code
	codeNotCoordinator               = kerr.NotCoordinator.Code
	codeLoadInProgress               = kerr.CoordinatorLoadInProgress.Code
	codeUnknownMemberID              = kerr.UnknownMemberID.Code
	codeFencedInstanceID             = kerr.FencedInstanceID.Code
	codeIllegalGeneration            = kerr.IllegalGeneration.Code
	codeRebalanceInProgress          = kerr.RebalanceInProgress.Code
	codeInconsistentProtocol         = kerr.InconsistentGroupProtocol.Code
	codeMemberIDRequired             = kerr.MemberIDRequired.Code
	codeGroupMaxSizeReached          = kerr.GroupMaxSizeReached.Code
	codeInvalidSessionTimeout        = kerr.InvalidSessionTimeout.Code
	codeInvalidGroupID               = kerr.InvalidGroupID.Code
	codeGroupIDNotFound              = kerr.GroupIDNotFound.Code
	codeNonEmptyGroup                = kerr.NonEmptyGroup.Code
	codeGroupSubscribedToTopic       = kerr.GroupSubscribedToTopic.Code
	codeOffsetMetadataTooLarge       = kerr.OffsetMetadataTooLarge.Code
	codeUnknownTopicOrPartition      = kerr.UnknownTopicOrPartition.Code
	codeUnknownTopicID               = kerr.UnknownTopicID.Code
	codeUnstableOffsetCommit         = kerr.UnstableOffsetCommit.Code
	codeInvalidProducerEpoch         = kerr.InvalidProducerEpoch.Code
	codeTransactionCoordinatorFenced = kerr.TransactionCoordinatorFenced.Code
)
