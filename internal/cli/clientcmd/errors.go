package clientcmd

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// UsageError is a mistake in how a command was called (a bad flag value, a
// missing argument). The cli package exits with code 2 on it.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	_, ok := errors.AsType[UsageError](err)
	return ok
}

// TopicError explains err, returned by the cluster for topic, in user terms:
// it names the Kafka error code, adds the broker's message (brokerMsg, may
// be empty) and a hint on how to fix the common cases. It returns nil for a
// nil err. The result wraps err, so errors.Is(result, kerr.X) still works.
func TopicError(topic string, err error, brokerMsg string) error {
	if err == nil {
		return nil
	}
	detail := kafkaDetail(err, brokerMsg)
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return fmt.Errorf("topic %q does not exist: %w (list topics with `sluice topic list`)", topic, detail)
	case errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("topic %q already exists: %w (see it with `sluice topic describe %s`)", topic, detail, topic)
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return fmt.Errorf("topic %q: not authorized: %w", topic, detail)
	}
	return fmt.Errorf("topic %q: %w", topic, detail)
}

// kafkaDetail formats a Kafka error as "NAME: description (broker message)".
// Non-Kafka errors are returned as they are.
func kafkaDetail(err error, brokerMsg string) error {
	ke, ok := errors.AsType[*kerr.Error](err)
	if !ok {
		if brokerMsg != "" {
			return fmt.Errorf("%w (%s)", err, brokerMsg)
		}
		return err
	}
	if brokerMsg != "" && brokerMsg != ke.Description {
		return detailError{ke: ke, msg: brokerMsg}
	}
	return ke
}

// detailError is a Kafka error with the broker's free-text message.
type detailError struct {
	ke  *kerr.Error
	msg string
}

func (e detailError) Error() string { return e.ke.Error() + " (" + e.msg + ")" }
func (e detailError) Unwrap() error { return e.ke }

// Status is the STATUS cell of a per-resource result table: ok when err is
// nil, else the Kafka error name (e.g. TOPIC_ALREADY_EXISTS) or "FAILED".
func Status(err error, ok string) string {
	if err == nil {
		return ok
	}
	if ke, isKafka := errors.AsType[*kerr.Error](err); isKafka {
		return ke.Message
	}
	return "FAILED"
}
