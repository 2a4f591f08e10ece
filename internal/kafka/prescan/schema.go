package prescan

// kind is a field's wire type.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kUint16
	kInt32
	kUint32
	kInt64
	kFloat64
	kVarint
	kVarlong
	kUUID
	kString        // int16 or compact length; nullable from nullableSince
	kBytes         // int32 or compact length; -1 reads as empty
	kNullableBytes // int32 or compact length; negative is null
	kVarintBytes   // varint length; negative is null
	kArray
	kStruct
	kFixed // a run of fixed-size fields, read as one skip (compiled programs only)
)

// fixedSize is the encoded size of a fixed-size kind, or 0.
func (k kind) fixedSize() int {
	switch k {
	case kBool, kInt8:
		return 1
	case kInt16, kUint16:
		return 2
	case kInt32, kUint32:
		return 4
	case kInt64, kFloat64:
		return 8
	case kUUID:
		return 16
	}
	return 0
}

// message is one request as schema_gen.go describes it.
type message struct {
	name         string
	maxVersion   int16
	flexibleFrom int16 // -1: never flexible
	fields       []field
}

// field is one field of a request or of a struct inside it, as the DSL
// that kmsg is generated from describes it (see gen.go).
type field struct {
	name          string
	kind          kind
	since, until  int16 // in the body at versions [since, until); until 0: no last version; since -1: only tagged
	tag           int16 // -1: not tagged
	nullableSince int16 // kString: the first version at which the string may be null; -1: never
	nullable      bool  // kStruct: an int8 presence marker precedes it
	fromFlexible  bool  // kStruct: its fields are compact in flexible versions
	elem          *field
	fields        []field
}

// inBody reports whether f is encoded in its struct's body at version v
// (tagged fields are read in the tag section, at every flexible version,
// as kmsg reads them).
func (f *field) inBody(v int16) bool {
	switch {
	case f.since < 0:
		return false
	case f.until > 0:
		return v >= f.since && v < f.until
	default:
		return v >= f.since
	}
}
