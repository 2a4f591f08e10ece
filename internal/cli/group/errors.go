package group

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// groupError explains err, returned by the cluster for group, in user
// terms: what was wrong, the Kafka error code, and how to fix it. It
// returns nil for a nil err, and wraps err so errors.Is still works.
func groupError(group string, err error, brokerMsg string) error {
	if err == nil {
		return nil
	}
	detail := err
	if brokerMsg != "" {
		detail = fmt.Errorf("%w (%s)", err, brokerMsg)
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return fmt.Errorf("group %q does not exist: %w (list groups with `sluice group list`)", group, detail)
	case errors.Is(err, kerr.NonEmptyGroup), errors.Is(err, kerr.UnknownMemberID),
		errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.RebalanceInProgress):
		return fmt.Errorf("group %q has active members: %w (stop its consumers first; see them with `sluice group describe %s`)",
			group, detail, group)
	case errors.Is(err, kerr.CoordinatorNotAvailable), errors.Is(err, kerr.NotCoordinator),
		errors.Is(err, kerr.CoordinatorLoadInProgress):
		return fmt.Errorf("group %q: its coordinator is not ready: %w (retry in a few seconds)", group, detail)
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		return fmt.Errorf("group %q: not authorized: %w", group, detail)
	}
	return fmt.Errorf("group %q: %w", group, detail)
}

// errActiveMembers is what seek says about a group that still has
// members: Kafka resets offsets only of an inactive group.
func errActiveMembers(group, state string, members int) error {
	return fmt.Errorf("group %q has %d active member(s) (state %s): offsets can only be moved while the group is empty; "+
		"stop its consumers (see them with `sluice group describe %s`) and run the seek again", group, members, state, group)
}
