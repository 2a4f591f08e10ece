package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// ConfigResult is the outcome for one resource of AlterConfigs or
// IncrementalAlterConfigs.
type ConfigResult struct {
	Type    kmsg.ConfigResourceType
	Name    string
	Err     *kerr.Error
	Message string
}

// configChange is what one request asks of one resource.
type configChange struct {
	typ     kmsg.ConfigResourceType
	name    string
	ops     []configOp
	replace bool // legacy AlterConfigs: keys not named are deleted
}

type configOp struct {
	key   string
	op    config.Op
	value *string
}

// AlterConfigs replaces the dynamic configs of each TOPIC or BROKER
// resource in req with the ones given (legacy AlterConfigs: keys not
// named are removed), or only checks the change with ValidateOnly.
func (c *Controller) AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) ([]ConfigResult, error) {
	changes := make([]configChange, len(req.Resources))
	for i, r := range req.Resources {
		ch := configChange{typ: r.ResourceType, name: r.ResourceName, replace: true}
		for _, cfg := range r.Configs {
			ch.ops = append(ch.ops, configOp{key: cfg.Name, op: config.OpSet, value: cfg.Value})
		}
		changes[i] = ch
	}
	return c.alterConfigs(ctx, changes, req.ValidateOnly)
}

// IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT
// operations (KIP-339) to each TOPIC or BROKER resource in req, or only
// checks them with ValidateOnly.
func (c *Controller) IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) ([]ConfigResult, error) {
	changes := make([]configChange, len(req.Resources))
	for i, r := range req.Resources {
		ch := configChange{typ: r.ResourceType, name: r.ResourceName}
		for _, cfg := range r.Configs {
			ch.ops = append(ch.ops, configOp{key: cfg.Name, op: config.Op(cfg.Op), value: cfg.Value})
		}
		changes[i] = ch
	}
	return c.alterConfigs(ctx, changes, req.ValidateOnly)
}

// alterConfigs writes the ConfigRecords of every valid change as one
// entry. Results come in request order, one per distinct resource.
func (c *Controller) alterConfigs(ctx context.Context, changes []configChange, validateOnly bool) ([]ConfigResult, error) {
	var results []ConfigResult
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, results = c.configRecords(im, changes)
		if validateOnly {
			return nil
		}
		return recs
	})
	return results, err
}

type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// configRecords is the pure core of both alter APIs, in the order
// Kafka's ConfigAdminManager (broker side) and ConfigurationControlManager
// check a resource.
func (c *Controller) configRecords(im *metadata.Image, changes []configChange) ([]metadata.Record, []ConfigResult) {
	counts := map[resourceKey]int{}
	for _, ch := range changes {
		counts[resourceKey{ch.typ, ch.name}]++
	}
	var recs []metadata.Record
	results := make([]ConfigResult, 0, len(changes))
	seen := map[resourceKey]bool{}
	for i := range changes {
		ch := &changes[i]
		k := resourceKey{ch.typ, ch.name}
		if seen[k] {
			continue
		}
		seen[k] = true
		res := ConfigResult{Type: ch.typ, Name: ch.name}
		if counts[k] > 1 {
			res.Err, res.Message = kerr.InvalidRequest, "Duplicate resource."
		} else {
			var resRecs []metadata.Record
			resRecs, res.Err, res.Message = c.alterResource(im, ch)
			recs = append(recs, resRecs...)
		}
		results = append(results, res)
	}
	return recs, results
}

// alterResource returns the records of one resource's change, or why it
// is refused.
func (c *Controller) alterResource(im *metadata.Image, ch *configChange) ([]metadata.Record, *kerr.Error, string) {
	if e, msg := checkOps(ch); e != nil {
		return nil, e, msg
	}
	var cur map[string]string
	recType, recName := metadata.ResourceTopic, ch.name
	switch ch.typ {
	case kmsg.ConfigResourceTypeTopic:
		if e, msg := checkTopicResource(ch.name); e != nil {
			return nil, e, msg
		}
		if t := im.Topics[ch.name]; t != nil {
			cur = t.Configs
		}
	case kmsg.ConfigResourceTypeBroker:
		name, e, msg := checkBrokerResource(im, ch.name)
		if e != nil {
			return nil, e, msg
		}
		recType, recName, cur = metadata.ResourceBroker, name, im.BrokerConfigs[name]
	default:
		e, msg := unsupportedResource(ch.typ)
		return nil, e, msg
	}
	next, e, msg := applyOps(ch, cur)
	if e != nil {
		return nil, e, msg
	}
	if err := c.validateLayer(ch.typ, recName, next); err != nil {
		if ch.typ == kmsg.ConfigResourceTypeBroker {
			// Kafka's ConfigAdminManager turns every failed broker
			// validation into INVALID_REQUEST (KAFKA-13609).
			return nil, kerr.InvalidRequest, err.Error()
		}
		return nil, configErrorCode(err), err.Error()
	}
	if ch.typ == kmsg.ConfigResourceTypeTopic && im.Topics[ch.name] == nil {
		return nil, kerr.UnknownTopicOrPartition, fmt.Sprintf("The topic '%s' does not exist.", ch.name)
	}
	return layerRecords(recType, recName, cur, next, ch), nil, ""
}

// checkOps refuses what Kafka's broker refuses before the controller sees
// the request: a key given twice, a null value for anything but DELETE,
// an unknown operation.
func checkOps(ch *configChange) (*kerr.Error, string) {
	keys := map[string]bool{}
	var nulls []string
	for _, op := range ch.ops {
		if keys[op.key] {
			return kerr.InvalidRequest, "Error due to duplicate config keys"
		}
		keys[op.key] = true
		if op.op < config.OpSet || op.op > config.OpSubtract {
			return kerr.InvalidRequest, fmt.Sprintf("Unknown operations type %d", op.op)
		}
		if op.value == nil && op.op != config.OpDelete {
			nulls = append(nulls, op.key)
		}
	}
	if len(nulls) > 0 {
		return kerr.InvalidRequest, "Null value not supported for : " + strings.Join(nulls, ", ")
	}
	return nil, ""
}

func checkTopicResource(name string) (*kerr.Error, string) {
	if name == "" {
		return kerr.InvalidRequest, "Default topic resources are not allowed."
	}
	if err := ValidateTopicName(name); err != nil {
		return kerr.InvalidTopicException, err.Error()
	}
	return nil, ""
}

// checkBrokerResource accepts "" (the cluster-wide default) or the id of
// a registered broker, and returns the name in canonical form.
func checkBrokerResource(im *metadata.Image, name string) (string, *kerr.Error, string) {
	if name == "" {
		return "", nil, ""
	}
	id, err := strconv.ParseInt(name, 10, 32)
	switch {
	case err != nil:
		return "", kerr.InvalidRequest, "Unable to parse broker name as a base 10 number."
	case id < 0:
		return "", kerr.InvalidRequest, "Invalid negative broker ID."
	case im.Brokers[model.NodeID(id)] == nil:
		return "", kerr.BrokerIDNotRegistered, fmt.Sprintf("No broker with id %d found.", id)
	}
	return strconv.FormatInt(id, 10), nil, ""
}

// unsupportedResource answers a resource type Sluice does not alter.
func unsupportedResource(t kmsg.ConfigResourceType) (*kerr.Error, string) {
	switch t {
	case kmsg.ConfigResourceTypeBrokerLogger:
		return kerr.InvalidRequest, "Unknown resource type BROKER_LOGGER"
	case kmsg.ConfigResourceTypeClientMetrics:
		return kerr.InvalidRequest, "Unknown resource type CLIENT_METRICS"
	case kmsg.ConfigResourceTypeGroupConfig:
		return kerr.InvalidRequest, "Unknown resource type GROUP"
	}
	return kerr.UnsupportedVersion, fmt.Sprintf("Unknown resource type %d.", int8(t))
}

// applyOps returns the resource's dynamic configs after ch.
func applyOps(ch *configChange, cur map[string]string) (map[string]string, *kerr.Error, string) {
	next := maps.Clone(cur)
	if next == nil || ch.replace {
		next = map[string]string{}
	}
	for _, op := range ch.ops {
		d, ok := configDef(ch.typ, op.key)
		if op.op == config.OpAppend || op.op == config.OpSubtract {
			if e, msg := checkListOp(ch.typ, op, d, ok); e != nil {
				return nil, e, msg
			}
		}
		if !ok { // an unknown key: SET or DELETE it; validation names it
			d = &config.Def{Name: op.key}
		}
		value := ""
		if op.value != nil {
			value = *op.value
		}
		if err := config.ApplyIncremental(next, d, op.op, value); err != nil {
			return nil, configErrorCode(err), err.Error()
		}
	}
	return next, nil, ""
}

// checkListOp refuses APPEND and SUBTRACT on a key that is not a list:
// for a topic with the controller's words (INVALID_CONFIG), for a broker
// with the broker's (INVALID_REQUEST, from config.ApplyIncremental).
func checkListOp(t kmsg.ConfigResourceType, op configOp, d *config.Def, known bool) (*kerr.Error, string) {
	if known && d.Type == config.TypeList {
		return nil, ""
	}
	if t == kmsg.ConfigResourceTypeBroker && known {
		return nil, "" // ApplyIncremental words the error
	}
	if t == kmsg.ConfigResourceTypeBroker {
		return kerr.InvalidConfig, "Unknown broker config name: " + op.key
	}
	verb := "APPEND"
	if op.op == config.OpSubtract {
		verb = "SUBTRACT"
	}
	return kerr.InvalidConfig, fmt.Sprintf("Can't %s to key %s because its type is not LIST.", verb, op.key)
}

func configDef(t kmsg.ConfigResourceType, key string) (*config.Def, bool) {
	if t == kmsg.ConfigResourceTypeBroker {
		return config.BrokerDef(key)
	}
	return config.TopicDef(key)
}

// validateLayer checks a resource's complete new dynamic configs. The
// broker hook sees a layer without its level, so keys that may only be
// set per broker are refused at the cluster-default level here.
func (c *Controller) validateLayer(t kmsg.ConfigResourceType, name string, layer map[string]string) error {
	if t != kmsg.ConfigResourceTypeBroker {
		return c.opts.ValidateTopicConfigs(layer)
	}
	if name == "" {
		var perBroker []string
		for _, k := range slices.Sorted(maps.Keys(layer)) {
			if d, ok := config.BrokerDef(k); ok && d.Mode == config.PerBroker {
				perBroker = append(perBroker, k)
			}
		}
		if len(perBroker) > 0 {
			return &config.Error{Key: perBroker[0], Kind: config.ErrNotDynamic,
				Message: "Cannot update these configs at default cluster level, broker id must be specified: [" + strings.Join(perBroker, ", ") + "]"}
		}
	}
	return c.opts.ValidateBrokerConfigs(layer)
}

// configErrorCode maps a validator's error: INVALID_REQUEST for an
// operation that does not apply to the key, else INVALID_CONFIG.
func configErrorCode(err error) *kerr.Error {
	if errors.Is(err, config.ErrInvalidRequest) {
		return kerr.InvalidRequest
	}
	return kerr.InvalidConfig
}

// layerRecords lists the ConfigRecords turning cur into next: the keys
// the request named (a broker key even when unchanged, as Kafka does to
// make brokers reload, KAFKA-14136) and the keys it removed.
func layerRecords(recType int8, name string, cur, next map[string]string, ch *configChange) []metadata.Record {
	var recs []metadata.Record
	add := func(key string) {
		rec := &metadata.ConfigRecord{ResourceType: recType, ResourceName: name, Key: key}
		if v, ok := next[key]; ok {
			rec.Value = &v
		}
		recs = append(recs, metadata.Record{Config: rec})
	}
	named := map[string]bool{}
	for _, op := range ch.ops {
		named[op.key] = true
		old, had := cur[op.key]
		v, has := next[op.key]
		if had != has || old != v || recType == metadata.ResourceBroker {
			add(op.key)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		if _, ok := next[k]; !ok && !named[k] {
			add(k)
		}
	}
	return recs
}
