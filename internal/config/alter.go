package config

import (
	"slices"
	"strings"
)

// Op is an IncrementalAlterConfigs operation (KIP-339), numbered as Kafka.
type Op int8

// Incremental operations.
const (
	OpSet      Op = 0
	OpDelete   Op = 1
	OpAppend   Op = 2
	OpSubtract Op = 3
)

// ApplyIncremental applies one IncrementalAlterConfigs operation on key d
// to layer (a topic's overrides or a dynamic broker layer) in place.
// APPEND and SUBTRACT work on LIST keys only, starting from the layer's
// value or else the key's default, as Kafka does; on other keys they fail
// with ErrInvalidRequest. Values are not validated here: validate the
// whole layer afterwards (ValidateTopicConfigs, ValidateBrokerAlter).
func ApplyIncremental(layer map[string]string, d *Def, op Op, value string) error {
	switch op {
	case OpSet:
		layer[d.Name] = value
	case OpDelete:
		delete(layer, d.Name)
	case OpAppend, OpSubtract:
		if d.Type != TypeList {
			verb := "append"
			if op == OpSubtract {
				verb = "subtract"
			}
			return &Error{Key: d.Name, Value: value, Kind: ErrInvalidRequest,
				Message: "Config value " + verb + " is not allowed for config key: " + d.Name}
		}
		cur, ok := layer[d.Name]
		if !ok {
			cur = d.Default
		}
		list := splitList(cur)
		for _, v := range splitList(value) {
			has := slices.Contains(list, v)
			if op == OpAppend && !has {
				list = append(list, v)
			}
			if op == OpSubtract && has {
				list = slices.DeleteFunc(list, func(e string) bool { return e == v })
			}
		}
		layer[d.Name] = strings.Join(list, ",")
	default:
		return &Error{Key: d.Name, Kind: ErrInvalidRequest, Message: "Unknown alter config operation for config key: " + d.Name}
	}
	return nil
}
