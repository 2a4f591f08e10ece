package batch

import (
	"encoding/binary"
	"fmt"
)

// Control record types (the key of a record in a control batch).
const (
	ControlAbort  int16 = 0
	ControlCommit int16 = 1
)

// EndTxnMarker returns the record of a transaction marker: the one record
// of a control batch (BatchInfo.Control and Transactional set, the
// producer's id and epoch) that commits or aborts the producer's
// transaction on a partition. Key: version 0 and the type; value: version
// 0 and the coordinator epoch.
func EndTxnMarker(commit bool, coordinatorEpoch int32, timestamp int64) *Record {
	typ := ControlAbort
	if commit {
		typ = ControlCommit
	}
	key := binary.BigEndian.AppendUint16(make([]byte, 2, 4), uint16(typ))
	value := binary.BigEndian.AppendUint32(make([]byte, 2, 6), uint32(coordinatorEpoch))
	return &Record{Timestamp: timestamp, Key: key, Value: value}
}

// ControlType reads the type from the key of a control record.
func ControlType(key []byte) (int16, error) {
	if len(key) < 4 {
		return 0, fmt.Errorf("%w: control record key of %d bytes", ErrCorrupt, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v != 0 {
		return 0, fmt.Errorf("%w: control record key version %d", ErrInvalid, v)
	}
	return int16(binary.BigEndian.Uint16(key[2:])), nil
}
