package handler

// DescribeConfigs, versions 0-4.
//
// Describes TOPIC and BROKER resources as Kafka's ConfigHelper does, with
// values from internal/config over the metadata image: a topic's
// overrides (DYNAMIC_TOPIC_CONFIG) on top of the broker's values, and for
// the broker the dynamic per-broker and cluster-default layers (KIP-226)
// on top of its file. config_names selects keys (null or empty: all).
// A topic resource lists every topic key; an unknown topic gets
// UNKNOWN_TOPIC_OR_PARTITION, an illegal name INVALID_TOPIC_EXCEPTION. A
// BROKER resource is this broker's id (every broker key, read_only for
// keys that cannot change at run time) or "" (the dynamic cluster
// defaults only); another id gets INVALID_REQUEST. BROKER_LOGGER for this
// broker answers an empty list: Sluice has no per-logger levels.
// Sensitive values are null. v0 reports is_default; v1 adds sources and
// synonyms (include_synonyms, KIP-226); v3 config types and documentation
// (include_documentation, KIP-569); v4 is flexible.

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
)

func handleDescribeConfigs(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeConfigsRequest)
	resp := kmsg.NewPtrDescribeConfigsResponse()
	resp.SetVersion(req.GetVersion())
	im := b.Metadata.Current()
	d := describer{b: b, im: im, synonyms: req.IncludeSynonyms, docs: req.IncludeDocumentation}
	for _, rr := range req.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		entries, e, msg := d.describe(rr)
		if e != nil {
			res.ErrorCode = e.Code
			if msg != "" {
				res.ErrorMessage = &msg
			}
		}
		res.Configs = make([]kmsg.DescribeConfigsResponseResourceConfig, 0, len(entries))
		for i := range entries {
			res.Configs = append(res.Configs, configEntry(&entries[i]))
		}
		resp.Resources = append(resp.Resources, res)
	}
	return Now(resp)
}

// describer describes resources of one request.
type describer struct {
	b              *Broker
	im             *metadata.Image
	synonyms, docs bool
	cfg            *config.Broker // with the image's dynamic layers; built once
}

func (d *describer) describe(rr kmsg.DescribeConfigsRequestResource) ([]config.Entry, *kerr.Error, string) {
	switch rr.ResourceType {
	case kmsg.ConfigResourceTypeTopic:
		if err := controller.ValidateTopicName(rr.ResourceName); err != nil {
			return nil, kerr.InvalidTopicException, err.Error()
		}
		t := d.im.Topics[rr.ResourceName]
		if t == nil {
			return nil, kerr.UnknownTopicOrPartition, ""
		}
		return config.DescribeTopic(d.config(), t.Configs, rr.ConfigNames, d.synonyms, d.docs), nil, ""
	case kmsg.ConfigResourceTypeBroker:
		if rr.ResourceName == "" {
			return config.DescribeBrokerDefaults(d.config(), rr.ConfigNames, d.synonyms, d.docs), nil, ""
		}
		if e, msg := d.checkBrokerID(rr.ResourceName, " or empty string"); e != nil {
			return nil, e, msg
		}
		return config.DescribeBroker(d.config(), rr.ConfigNames, d.synonyms, d.docs), nil, ""
	case kmsg.ConfigResourceTypeBrokerLogger:
		if rr.ResourceName == "" {
			return nil, kerr.InvalidRequest, "Broker id must not be empty"
		}
		if e, msg := d.checkBrokerID(rr.ResourceName, ""); e != nil {
			return nil, e, msg
		}
		return nil, nil, ""
	}
	return nil, kerr.InvalidRequest, "Unsupported resource type: " + resourceTypeName(rr.ResourceType)
}

// checkBrokerID accepts only this broker's id, with Kafka's messages.
func (d *describer) checkBrokerID(name, orEmpty string) (*kerr.Error, string) {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return kerr.InvalidRequest, "Broker id must be an integer, but it is: " + name
	}
	if self := int64(d.b.Settings.NodeID); id != self {
		return kerr.InvalidRequest, fmt.Sprintf("Unexpected broker id, expected %d%s, but received %s", self, orEmpty, name)
	}
	return nil, ""
}

// config is this broker's configuration with the image's dynamic layers.
func (d *describer) config() *config.Broker {
	if d.cfg == nil {
		d.cfg = d.b.dynamicConfig(d.im)
	}
	return d.cfg
}

// defaultConfig is the zero-config broker, built once.
var defaultConfig = sync.OnceValue(config.Default)

// staticConfig is the broker's configuration from its file and flags.
func (b *Broker) staticConfig() *config.Broker {
	if b.Settings.Config == nil {
		return defaultConfig()
	}
	return b.Settings.Config
}

// dynamicConfig is the static configuration with the dynamic per-broker
// and cluster-default layers of im applied (invalid entries skipped).
func (b *Broker) dynamicConfig(im *metadata.Image) *config.Broker {
	self := strconv.Itoa(int(b.Settings.NodeID))
	cfg, _ := b.staticConfig().WithDynamic(im.BrokerConfigs[self], im.BrokerConfigs[""])
	return cfg
}

func configEntry(e *config.Entry) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.ReadOnly = e.Name, e.Value, e.ReadOnly
	c.IsDefault, c.Source, c.IsSensitive = e.IsDefault(), kmsg.ConfigSource(e.Source), e.Sensitive
	c.ConfigType, c.Documentation = kmsg.ConfigType(e.Type), e.Documentation
	for _, s := range e.Synonyms {
		syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
		syn.Name, syn.Value, syn.Source = s.Name, s.Value, kmsg.ConfigSource(s.Source)
		c.ConfigSynonyms = append(c.ConfigSynonyms, syn)
	}
	return c
}

// resourceTypeName is Kafka's name of a ConfigResource type.
func resourceTypeName(t kmsg.ConfigResourceType) string {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		return "TOPIC"
	case kmsg.ConfigResourceTypeBroker:
		return "BROKER"
	case kmsg.ConfigResourceTypeBrokerLogger:
		return "BROKER_LOGGER"
	case kmsg.ConfigResourceTypeClientMetrics:
		return "CLIENT_METRICS"
	case kmsg.ConfigResourceTypeGroupConfig:
		return "GROUP"
	}
	return "UNKNOWN"
}
