package config

import (
	"maps"
	"slices"
)

// Entry is one config as DescribeConfigs reports it. Value is nil for a
// sensitive key and for a key with no value (Kafka's null).
type Entry struct {
	Name          string
	Value         *string
	ReadOnly      bool
	Source        Source
	Sensitive     bool
	Synonyms      []Synonym // nil unless asked for
	Type          Type
	Documentation *string // nil unless asked for
}

// IsDefault is the v0 IsDefault flag.
func (e *Entry) IsDefault() bool { return e.Source == SourceDefault }

// Synonym is one place a described value could come from, in Kafka's
// order: the value in force first.
type Synonym struct {
	Name   string
	Value  *string
	Source Source
}

// DescribeTopic describes a topic with the given overrides on broker b,
// every topic key sorted by name, or only those in keys when keys is not
// empty (unknown names are skipped). Each key's synonyms are the topic
// override, then its broker synonyms: all dynamic per-broker values, then
// dynamic cluster defaults, then file values, then defaults, each in the
// synonym precedence order. The value is the effective one, converted to
// the topic key's unit (log.retention.hours=1 describes retention.ms as
// 3600000, with the synonym log.retention.hours=1 STATIC_BROKER_CONFIG).
func DescribeTopic(b *Broker, overrides map[string]string, keys []string, includeSynonyms, includeDocs bool) []Entry {
	if b == nil {
		b = sharedDefault()
	}
	var out []Entry
	for _, d := range topicTable.list {
		if !wanted(keys, d.Name) {
			continue
		}
		v, _ := topicValue(b, d, overrides)
		var syns []Synonym
		if o, ok := overrides[d.Name]; ok {
			syns = append(syns, Synonym{Name: d.Name, Value: strPtr(d.Canonical(o)), Source: SourceDynamicTopic})
		}
		syns = append(syns, b.brokerSynonyms(d.Synonyms, d.Sensitive)...)
		out = append(out, entry(d, &v, false, syns, includeSynonyms, includeDocs))
	}
	return out
}

// DescribeBroker describes broker b's keys (the BROKER resource named by
// its node id), sorted by name, or only those in keys when keys is not
// empty. Synonyms follow Kafka: every layer of the key's synonym group,
// starting at the key itself.
func DescribeBroker(b *Broker, keys []string, includeSynonyms, includeDocs bool) []Entry {
	var out []Entry
	for _, d := range brokerTable.list {
		if !wanted(keys, d.Name) {
			continue
		}
		var value *string
		if v, _, ok := b.Lookup(d.Name); ok {
			value = &v
		}
		out = append(out, entry(d, value, d.ReadOnly(), b.brokerKeySynonyms(d), includeSynonyms, includeDocs))
	}
	return out
}

// DescribeBrokerDefaults describes the dynamic cluster-wide defaults (the
// BROKER resource with an empty name): only keys that have one.
func DescribeBrokerDefaults(b *Broker, keys []string, includeSynonyms, includeDocs bool) []Entry {
	var out []Entry
	for _, k := range slices.Sorted(maps.Keys(b.clusterDefault)) {
		d, ok := BrokerDef(k)
		if !ok || !wanted(keys, k) {
			continue
		}
		var syns []Synonym
		for _, s := range b.brokerKeySynonyms(d) {
			if s.Source == SourceDynamicDefaultBroker {
				syns = append(syns, s)
			}
		}
		v := b.clusterDefault[k]
		out = append(out, entry(d, &v, d.ReadOnly(), syns, includeSynonyms, includeDocs))
	}
	return out
}

// brokerKeySynonyms lists a broker key's synonyms from its own name on:
// like Kafka, it drops the entries before the first one for the key
// itself, so log.retention.hours lists only log.retention.hours values.
func (b *Broker) brokerKeySynonyms(d *Def) []Synonym {
	group := d.Synonyms
	if group == nil {
		group = []string{d.Name}
	}
	syns := b.brokerSynonyms(group, d.Sensitive)
	for i, s := range syns {
		if s.Name == d.Name {
			return syns[i:]
		}
	}
	return nil
}

// brokerSynonyms lists, for the broker keys names, every layer that has a
// value: per-broker, cluster default, static, default, and within each
// layer the names in order.
func (b *Broker) brokerSynonyms(names []string, sensitive bool) []Synonym {
	var out []Synonym
	add := func(layer map[string]string, src Source) {
		for _, n := range names {
			if v, ok := layer[n]; ok {
				out = append(out, Synonym{Name: n, Value: hide(v, sensitive), Source: src})
			}
		}
	}
	add(b.perBroker, SourceDynamicBroker)
	add(b.clusterDefault, SourceDynamicDefaultBroker)
	add(b.static, SourceStaticBroker)
	for _, n := range names {
		if d, ok := BrokerDef(n); ok && d.HasDefault {
			out = append(out, Synonym{Name: n, Value: hide(d.Default, sensitive), Source: SourceDefault})
		}
	}
	return out
}

func entry(d *Def, value *string, readOnly bool, syns []Synonym, includeSynonyms, includeDocs bool) Entry {
	e := Entry{
		Name:      d.Name,
		Value:     value,
		ReadOnly:  readOnly,
		Source:    SourceDefault,
		Sensitive: d.Sensitive,
		Type:      d.Type,
	}
	if d.Sensitive {
		e.Value = nil
	}
	if len(syns) > 0 {
		e.Source = syns[0].Source
	}
	if includeSynonyms {
		e.Synonyms = syns
	}
	if includeDocs {
		e.Documentation = strPtr(d.Doc)
	}
	return e
}

func wanted(keys []string, name string) bool {
	return len(keys) == 0 || slices.Contains(keys, name)
}

func hide(v string, sensitive bool) *string {
	if sensitive {
		return nil
	}
	return &v
}

func strPtr(s string) *string { return &s }
