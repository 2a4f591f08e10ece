package bench

import "errors"

var (
	// ErrInvalidSpec is returned by Run for a Spec that cannot run; the
	// message names the field.
	ErrInvalidSpec = errors.New("invalid benchmark spec")
	// ErrProduceFailed means some records were not acknowledged.
	ErrProduceFailed = errors.New("records failed to produce")
	// ErrIntegrity means the end-to-end check found records lost,
	// duplicated, reordered or misrouted.
	ErrIntegrity = errors.New("end-to-end check failed")
	// ErrNoRecords means a consume benchmark found nothing to read.
	ErrNoRecords = errors.New("no records to consume")
)
