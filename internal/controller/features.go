package controller

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
)

// Upgrade types of UpdateFeatures v1+ (Kafka's FeatureUpdate.UpgradeType).
const (
	UpgradeOnly     int8 = 1
	SafeDowngrade   int8 = 2
	UnsafeDowngrade int8 = 3
)

// FeatureUpdate is one entry of UpdateFeatures: a feature and the level to
// finalize it at.
type FeatureUpdate struct {
	Name  string
	Level int16
	Type  int8 // UpgradeOnly, SafeDowngrade or UnsafeDowngrade
}

// UpdateFeatures finalizes feature levels (kafka-features.sh upgrade and
// downgrade), all or none, as Kafka's FeatureControlManager: the first
// update that fails fails the request with INVALID_UPDATE_VERSION (or
// INVALID_REQUEST for a feature named twice) and its reason. validateOnly
// checks without writing.
func (c *Controller) UpdateFeatures(ctx context.Context, updates []FeatureUpdate, validateOnly bool) (*kerr.Error, string, error) {
	var code *kerr.Error
	var msg string
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, code, msg = updateFeatures(im, updates)
		if code != nil || validateOnly {
			return nil
		}
		return recs
	})
	return code, msg, err
}

// updateFeatures is the pure core of UpdateFeatures.
func updateFeatures(im *metadata.Image, updates []FeatureUpdate) ([]metadata.Record, *kerr.Error, string) {
	seen := map[string]bool{}
	var recs []metadata.Record
	for _, u := range updates {
		if seen[u.Name] {
			return nil, kerr.InvalidRequest, fmt.Sprintf("Feature %s is named more than once.", u.Name)
		}
		seen[u.Name] = true
		if reason := updateRefused(im, u); reason != "" {
			return nil, kerr.InvalidUpdateVersion, fmt.Sprintf("Invalid update version %d for feature %s. %s", u.Level, u.Name, reason)
		}
		recs = append(recs, metadata.Record{Feature: &metadata.FeatureLevelRecord{Name: u.Name, Level: u.Level}})
	}
	return recs, nil, ""
}

// updateRefused returns why u cannot be applied, or "".
func updateRefused(im *metadata.Image, u FeatureUpdate) string {
	f, ok := metadata.SupportedFeature(u.Name)
	cur := im.FeatureLevel(u.Name)
	switch {
	case u.Type < UpgradeOnly || u.Type > UnsafeDowngrade:
		return "The controller does not support the given upgrade type."
	case u.Level < 0:
		return "A feature version cannot be less than 0."
	case !ok:
		return "The controller does not support the given feature."
	case f.Fixed != "" && u.Level != cur:
		return "It cannot be changed: " + f.Fixed + "."
	case u.Level < f.Min || u.Level > f.Max:
		return fmt.Sprintf("This controller only supports versions %d-%d.", f.Min, f.Max)
	case u.Level < cur && u.Type == UpgradeOnly:
		return "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade."
	case u.Level > cur && u.Type != UpgradeOnly:
		return "Can't downgrade to a newer version."
	case u.Name == metadata.MetadataVersion && u.Level < cur && u.Type == UnsafeDowngrade:
		return "Unsafe metadata downgrade is not supported in this version."
	case u.Name == metadata.MetadataVersion && u.Level < cur:
		return "Refusing to perform the requested downgrade because it might delete metadata information."
	}
	return ""
}
