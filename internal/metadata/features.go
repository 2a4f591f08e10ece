package metadata

import "maps"

// Feature flags (KIP-584, KIP-1022): what a client learns from ApiVersions
// about what the cluster may use, and what UpdateFeatures (kafka-features.sh)
// changes. A FeatureLevelRecord finalizes one feature at a level; a feature
// no record names is at its default level, the level a new Kafka 4 cluster
// is formatted with.

// Feature names Kafka 4 defines.
const (
	MetadataVersion    = "metadata.version"
	KRaftVersion       = "kraft.version"
	GroupVersion       = "group.version"
	TransactionVersion = "transaction.version"
)

// FeatureRange is a feature Sluice supports: the levels it can run at and
// the level a cluster without a record for it is at.
type FeatureRange struct {
	Name     string
	Min, Max int16
	Default  int16
	// Fixed features cannot be changed by UpdateFeatures; the string
	// says why.
	Fixed string
}

// SupportedFeatures lists what this build supports, by name. The levels
// are Kafka 4.0's: metadata.version 7 (3.3-IV3) to 25 (4.0-IV3);
// group.version 1 serves the consumer group protocol (KIP-848);
// transaction.version 2 is transactions v2 (KIP-890 part 2: Produce v12's
// implicit AddPartitionsToTxn, EndTxn v5's epoch bump), which clients use
// once it is finalized. kraft.version 0 is a static quorum, which
// Sluice's is.
var SupportedFeatures = []FeatureRange{
	{Name: GroupVersion, Min: 0, Max: 1, Default: 1},
	{Name: KRaftVersion, Min: 0, Max: 0, Default: 0, Fixed: "Sluice's metadata quorum is static"},
	{Name: MetadataVersion, Min: 7, Max: 25, Default: 25},
	{Name: TransactionVersion, Min: 0, Max: 2, Default: 2},
}

// SupportedFeature returns the range of a feature this build supports.
func SupportedFeature(name string) (FeatureRange, bool) {
	for _, f := range SupportedFeatures {
		if f.Name == name {
			return f, true
		}
	}
	return FeatureRange{}, false
}

// FeatureLevelRecord finalizes a feature at a level (Kafka's record of the
// same name); level 0 turns a feature other than metadata.version off.
type FeatureLevelRecord struct {
	Name  string `json:"name"`
	Level int16  `json:"level"`
}

// FinalizedFeatures returns every supported feature's finalized level,
// those at 0 included.
func (im *Image) FinalizedFeatures() map[string]int16 {
	out := make(map[string]int16, len(SupportedFeatures))
	for _, f := range SupportedFeatures {
		out[f.Name] = f.Default
	}
	maps.Copy(out, im.Features)
	return out
}

// FeatureLevel returns one feature's finalized level (0 for a feature
// this build does not know).
func (im *Image) FeatureLevel(name string) int16 {
	if l, ok := im.Features[name]; ok {
		return l
	}
	f, _ := SupportedFeature(name)
	return f.Default
}
