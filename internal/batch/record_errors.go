package batch

import (
	"fmt"
	"strings"
)

// MaxRecordErrors bounds how many refused records a RecordsError lists.
// Kafka lists them all; a compressed batch of a few KiB can hold millions
// of tiny records, and the list goes into the produce response, so Sluice
// keeps the first ones and counts the rest.
const MaxRecordErrors = 1000

// RecordError is one refused record of a produced batch: its index in the
// batch and why. It is one entry of ProduceResponse v8+ record_errors
// (KIP-467: batch_index, batch_index_error_message).
type RecordError struct {
	Index   int32
	Message string
}

// RecordsError refuses a produced batch because of some of its records,
// which it names, like Kafka's RecordValidationException: the batch is
// well-formed, but a record breaks a rule of the topic (a timestamp out of
// the window, a record without key in a compacted topic). It wraps
// ErrInvalidTimestamp when any record has a bad timestamp, else
// ErrInvalid (Kafka's precedence).
type RecordsError struct {
	// Err is ErrInvalidTimestamp or ErrInvalid.
	Err error
	// Records are the first MaxRecordErrors refused records, in order.
	Records []RecordError
	// Refused counts every refused record, listed or not.
	Refused int
}

func (e *RecordsError) Unwrap() error { return e.Err }

func (e *RecordsError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v: %d record(s) refused", e.Err, e.Refused)
	for i, r := range e.Records[:min(len(e.Records), 3)] {
		if i == 0 {
			sb.WriteString(": ")
		} else {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "record %d: %s", r.Index, r.Message)
	}
	return sb.String()
}

// add notes that record i is refused for msg (built only when listed).
func (e *RecordsError) add(i int32, timestamp bool, msg func() string) {
	if timestamp {
		e.Err = ErrInvalidTimestamp
	}
	e.Refused++
	if len(e.Records) < MaxRecordErrors {
		e.Records = append(e.Records, RecordError{Index: i, Message: msg()})
	}
}
