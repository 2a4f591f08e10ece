package config

import (
	"errors"
	"slices"
	"strings"
)

// Type is a config value type, numbered as Kafka's DescribeConfigs
// response numbers them (ConfigType, KIP-569).
type Type int8

// Config types.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

var typeNames = [...]string{"UNKNOWN", "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD"}

// String returns Kafka's upper-case name of the type.
func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return "UNKNOWN"
	}
	return typeNames[t]
}

// Source says where a described value comes from, numbered as Kafka's
// DescribeConfigs ConfigSource (KIP-226).
type Source int8

// Config sources.
const (
	SourceUnknown              Source = 0
	SourceDynamicTopic         Source = 1 // DYNAMIC_TOPIC_CONFIG
	SourceDynamicBroker        Source = 2 // DYNAMIC_BROKER_CONFIG
	SourceDynamicDefaultBroker Source = 3 // DYNAMIC_DEFAULT_BROKER_CONFIG
	SourceStaticBroker         Source = 4 // STATIC_BROKER_CONFIG
	SourceDefault              Source = 5 // DEFAULT_CONFIG
)

var sourceNames = [...]string{"UNKNOWN", "DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG",
	"DYNAMIC_DEFAULT_BROKER_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG"}

// String returns Kafka's name of the source.
func (s Source) String() string {
	if s < 0 || int(s) >= len(sourceNames) {
		return "UNKNOWN"
	}
	return sourceNames[s]
}

// UpdateMode says whether and how a broker key may be changed at run time
// with AlterConfigs on a BROKER resource (Kafka's "Update Mode" column).
type UpdateMode int8

// Update modes.
const (
	// ReadOnly keys are read once at start; changing them needs a restart.
	ReadOnly UpdateMode = iota
	// PerBroker keys may be altered for one broker (resource name = node id).
	PerBroker
	// ClusterWide keys may be altered for one broker or as the cluster-wide
	// default (empty resource name).
	ClusterWide
)

// String returns Kafka's spelling of the mode.
func (m UpdateMode) String() string {
	switch m {
	case PerBroker:
		return "per-broker"
	case ClusterWide:
		return "cluster-wide"
	default:
		return "read-only"
	}
}

// Def defines one config key. Defs are immutable values in package tables;
// they are safe for concurrent use.
type Def struct {
	Name string
	Type Type
	// Default is the default as Kafka prints it; meaningful only when
	// HasDefault is set (Kafka's "null" default has HasDefault false).
	Default    string
	HasDefault bool
	Doc        string
	// Validate checks a value that already parses as Type (trimmed); it
	// returns the reason a value is refused, without the key. Nil accepts
	// every value of the type.
	Validate  func(string) error
	Sensitive bool
	// Mode is how a broker key may be altered at run time. Topic keys are
	// always alterable per topic and leave it ReadOnly.
	Mode UpdateMode
	// Synonyms: for a topic key, the broker keys that supply its default,
	// highest precedence first (retention.ms <- log.retention.ms,
	// log.retention.minutes, log.retention.hours). For a broker key, the
	// broker keys that set the same thing, itself included, highest
	// precedence first; nil when it is the only one.
	Synonyms []string
}

// ReadOnly reports whether the key cannot be altered at run time.
func (d *Def) ReadOnly() bool { return d.Mode == ReadOnly }

// Check validates value for this key. The error is an *Error naming the
// key and the value, worded as Kafka words it.
func (d *Def) Check(value string) error {
	v := strings.TrimSpace(value)
	if reason := parseType(d.Type, v); reason != "" {
		return invalid(d.Name, value, reason)
	}
	if d.Validate == nil {
		return nil
	}
	if err := d.Validate(v); err != nil {
		var ee elemError
		if errors.As(err, &ee) {
			return invalid(d.Name, ee.elem, ee.reason)
		}
		return invalid(d.Name, value, err.Error())
	}
	return nil
}

// Canonical returns value as Kafka prints a parsed value of this key's
// type: trimmed, booleans lower case, lists joined by ",", doubles in
// Java's notation. value must have passed Check.
func (d *Def) Canonical(value string) string { return canonical(d.Type, value) }

// defTable indexes a table of defs by name.
type defTable struct {
	list  []*Def // sorted by name
	index map[string]*Def
}

func newDefTable(defs []Def) defTable {
	t := defTable{index: make(map[string]*Def, len(defs))}
	for i := range defs {
		d := &defs[i]
		if _, dup := t.index[d.Name]; dup {
			panic("config: duplicate def " + d.Name)
		}
		t.index[d.Name] = d
		t.list = append(t.list, d)
	}
	slices.SortFunc(t.list, func(a, b *Def) int { return strings.Compare(a.Name, b.Name) })
	return t
}

var (
	brokerTable = newDefTable(slices.Concat(brokerCoreDefs, brokerLogDefs, brokerNetDefs, brokerCoordDefs))
	topicTable  = newDefTable(topicDefs)
)

// BrokerDef returns the definition of a broker key.
func BrokerDef(name string) (*Def, bool) {
	d, ok := brokerTable.index[name]
	return d, ok
}

// TopicDef returns the definition of a topic key.
func TopicDef(name string) (*Def, bool) {
	d, ok := topicTable.index[name]
	return d, ok
}

// BrokerDefs returns every broker key, sorted by name. The slice is shared:
// do not modify it.
func BrokerDefs() []*Def { return brokerTable.list }

// TopicDefs returns every topic key, sorted by name. The slice is shared:
// do not modify it.
func TopicDefs() []*Def { return topicTable.list }
