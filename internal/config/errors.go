package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every *Error unwraps to one of them, so callers can
// branch with errors.Is; the protocol edge maps them to Kafka's
// INVALID_CONFIG (ErrInvalidRequest to INVALID_REQUEST) with Error() as
// the message.
var (
	// ErrUnknownKey: the key is not a config Sluice knows.
	ErrUnknownKey = errors.New("unknown config")
	// ErrInvalidValue: the value does not parse or is out of range.
	ErrInvalidValue = errors.New("invalid config value")
	// ErrConflict: values of two or more keys contradict each other.
	ErrConflict = errors.New("conflicting config values")
	// ErrNotDynamic: the broker key cannot be altered at run time, or not
	// at the level asked for.
	ErrNotDynamic = errors.New("config not dynamically updatable")
	// ErrInvalidRequest: the alter operation does not apply to the key
	// (APPEND on a non-list). Kafka answers INVALID_REQUEST, not
	// INVALID_CONFIG, for this one.
	ErrInvalidRequest = errors.New("invalid alter config request")
)

// Error is a config error that names the offending key. Message is the
// full text (Kafka's wording where Kafka has one), suitable for the
// ErrorMessage of an INVALID_CONFIG response.
type Error struct {
	Key     string
	Value   string
	Message string
	Kind    error // one of the sentinels above
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// invalid builds Kafka's ConfigException text:
// "Invalid value X for configuration Y: reason".
func invalid(key, value, reason string) *Error {
	return &Error{
		Key:     key,
		Value:   value,
		Message: fmt.Sprintf("Invalid value %s for configuration %s: %s", value, key, reason),
		Kind:    ErrInvalidValue,
	}
}

func unknownTopicKey(key string) *Error {
	return &Error{Key: key, Message: "Unknown topic config name: " + key, Kind: ErrUnknownKey}
}

func conflict(key, format string, args ...any) *Error {
	return &Error{Key: key, Message: fmt.Sprintf(format, args...), Kind: ErrConflict}
}

// notDynamic builds Kafka's "<msg>: [k1, k2]" text for keys that may not
// be altered; Key holds the first of them.
func notDynamic(msg string, keys []string) *Error {
	return &Error{
		Key:     keys[0],
		Message: msg + ": [" + strings.Join(keys, ", ") + "]",
		Kind:    ErrNotDynamic,
	}
}

// elemError is returned by list validators so that the message names the
// offending element, as Kafka's ValidList does.
type elemError struct{ elem, reason string }

func (e elemError) Error() string { return e.reason }

// Warning is a problem in a config file that does not stop the broker:
// an unknown key, a key Sluice accepts but ignores, a risky value.
type Warning struct {
	Key  string
	Line int // line in the properties file, 0 when from an override
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", w.Line, w.Key, w.Msg)
	}
	return w.Key + ": " + w.Msg
}
