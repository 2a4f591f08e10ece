package config

import (
	"maps"
	"slices"
)

// Dynamic broker configs (KIP-226): AlterConfigs on a BROKER resource sets
// a per-broker value (resource name = node id) or a cluster-wide default
// (empty resource name). Both live in the metadata log; each broker builds
// its effective Broker with WithDynamic whenever they change. Precedence:
// per-broker > cluster default > file/flags > default.

// ValidateBrokerAlter checks a complete new dynamic layer for a broker
// (perBroker) or for the cluster default (!perBroker): the layer as it
// would be stored after the alter, not only the changed keys. Every known
// key must be one that can change at run time at that level, every value
// valid, and the result must still fit b's other settings. Unknown keys
// pass, as in Kafka: they are stored and ignored.
func ValidateBrokerAlter(b *Broker, perBroker bool, layer map[string]string) error {
	keys := slices.Sorted(maps.Keys(layer))
	var readOnly, brokerOnly []string
	for _, k := range keys {
		d, ok := BrokerDef(k)
		switch {
		case !ok:
			// Kafka stores an unknown key of a broker resource and
			// ignores it (DynamicBrokerConfig checks known keys only);
			// WithDynamic warns about it.
		case d.Mode == ReadOnly:
			readOnly = append(readOnly, k)
		case d.Mode == PerBroker && !perBroker:
			brokerOnly = append(brokerOnly, k)
		}
	}
	if len(readOnly) > 0 {
		return notDynamic("Cannot update these configs dynamically", readOnly)
	}
	if len(brokerOnly) > 0 {
		return notDynamic("Cannot update these configs at default cluster level, broker id must be specified", brokerOnly)
	}
	canon := make(map[string]string, len(layer))
	for _, k := range keys {
		d, ok := BrokerDef(k)
		if !ok {
			continue
		}
		if err := d.Check(layer[k]); err != nil {
			return err
		}
		canon[k] = d.Canonical(layer[k])
	}
	pb, cd := b.perBroker, b.clusterDefault
	if perBroker {
		pb = canon
	} else {
		cd = canon
	}
	_, err := build(b.static, pb, cd)
	return err
}

// WithDynamic returns a Broker with b's file and flag values and the given
// dynamic layers. It never fails: a key that is unknown, not dynamic at
// that level, or invalid is skipped and reported as a Warning (a broker
// must apply whatever the metadata log holds), and if the layers together
// break a cross-key rule, b's values are kept and the error is a Warning.
func (b *Broker) WithDynamic(perBroker, clusterDefault map[string]string) (*Broker, []Warning) {
	var warns []Warning
	pb := filterDynamic(perBroker, true, &warns)
	cd := filterDynamic(clusterDefault, false, &warns)
	nb, err := build(b.static, pb, cd)
	if err != nil {
		key := ""
		if e, ok := err.(*Error); ok {
			key = e.Key
		}
		return b, append(warns, Warning{Key: key, Msg: "dynamic configs not applied: " + err.Error()})
	}
	return nb, warns
}

func filterDynamic(layer map[string]string, perBroker bool, warns *[]Warning) map[string]string {
	if len(layer) == 0 {
		return nil
	}
	out := make(map[string]string, len(layer))
	for _, k := range slices.Sorted(maps.Keys(layer)) {
		d, ok := BrokerDef(k)
		switch {
		case !ok:
			*warns = append(*warns, Warning{Key: k, Msg: "unknown dynamic broker config; ignored"})
		case d.Mode == ReadOnly || (d.Mode == PerBroker && !perBroker):
			*warns = append(*warns, Warning{Key: k, Msg: "not dynamically updatable at this level; ignored"})
		default:
			if err := d.Check(layer[k]); err != nil {
				*warns = append(*warns, Warning{Key: k, Msg: err.Error() + "; ignored"})
				continue
			}
			out[k] = d.Canonical(layer[k])
		}
	}
	return out
}

// PerBrokerDynamic returns a copy of the dynamic values set for this broker.
func (b *Broker) PerBrokerDynamic() map[string]string { return maps.Clone(b.perBroker) }

// ClusterDefaultDynamic returns a copy of the dynamic cluster defaults.
func (b *Broker) ClusterDefaultDynamic() map[string]string { return maps.Clone(b.clusterDefault) }
