package controller

import (
	"context"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
)

const (
	topicRes  = kmsg.ConfigResourceTypeTopic
	brokerRes = kmsg.ConfigResourceTypeBroker
)

type cfgOp struct {
	key   string
	op    kmsg.IncrementalAlterConfigOp
	value *string
}

type cfgResource struct {
	typ  kmsg.ConfigResourceType
	name string
	ops  []cfgOp
}

func set(k, v string) cfgOp { return cfgOp{key: k, op: kmsg.IncrementalAlterConfigOpSet, value: &v} }
func del(k string) cfgOp    { return cfgOp{key: k, op: kmsg.IncrementalAlterConfigOpDelete} }
func appendOp(k, v string) cfgOp {
	return cfgOp{key: k, op: kmsg.IncrementalAlterConfigOpAppend, value: &v}
}
func subtract(k, v string) cfgOp {
	return cfgOp{key: k, op: kmsg.IncrementalAlterConfigOpSubtract, value: &v}
}

func incrementalRequest(validateOnly bool, rs ...cfgResource) *kmsg.IncrementalAlterConfigsRequest {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = validateOnly
	for _, r := range rs {
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = r.typ, r.name
		for _, o := range r.ops {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Op, c.Value = o.key, o.op, o.value
			rr.Configs = append(rr.Configs, c)
		}
		req.Resources = append(req.Resources, rr)
	}
	return req
}

func legacyRequest(validateOnly bool, rs ...cfgResource) *kmsg.AlterConfigsRequest {
	req := kmsg.NewPtrAlterConfigsRequest()
	req.ValidateOnly = validateOnly
	for _, r := range rs {
		rr := kmsg.NewAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = r.typ, r.name
		for _, o := range r.ops {
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = o.key, o.value
			rr.Configs = append(rr.Configs, c)
		}
		req.Resources = append(req.Resources, rr)
	}
	return req
}

// newConfigCluster has brokers 1 and 2, topic "t" with retention.ms=1000
// and cleanup.policy=delete,compact, and broker 1 with
// log.retention.ms=5000.
func newConfigCluster(t *testing.T) *testCluster {
	t.Helper()
	base := config.Default()
	tc := newTestCluster(t, Options{
		ValidateTopicConfigs: config.ValidateTopicConfigs,
		ValidateBrokerConfigs: func(m map[string]string) error {
			return config.ValidateBrokerAlter(base, true, m)
		},
	}, 1, 2)
	tc.createTopic(t, "t", []int32{1})
	res, err := tc.c.IncrementalAlterConfigs(context.Background(), incrementalRequest(false,
		cfgResource{topicRes, "t", []cfgOp{set("retention.ms", "1000"), set("cleanup.policy", "delete,compact")}},
		cfgResource{brokerRes, "1", []cfgOp{set("log.retention.ms", "5000")}}))
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("set up configs: %v %+v", err, res)
	}
	return tc
}

type cfgWant struct{ err, msg string }

type configCase struct {
	name      string
	resources []cfgResource
	want      []cfgWant
	topic     map[string]string // configs of "t" after, when set
	broker1   map[string]string // dynamic configs of broker 1 after, when set
	defaults  map[string]string // cluster-default broker configs after, when set
}

func (tt *configCase) check(t *testing.T, tc *testCluster, res []ConfigResult) {
	t.Helper()
	if len(res) != len(tt.want) {
		t.Fatalf("got %d results %+v, want %d", len(res), res, len(tt.want))
	}
	for i, w := range tt.want {
		if errName(res[i].Err) != w.err || res[i].Message != w.msg {
			t.Errorf("result %d (%d %q) = %s %q, want %s %q", i, res[i].Type, res[i].Name, errName(res[i].Err), res[i].Message, w.err, w.msg)
		}
	}
	im := tc.image()
	if tt.topic != nil && !maps.Equal(im.Topics["t"].Configs, tt.topic) {
		t.Errorf("topic configs = %v, want %v", im.Topics["t"].Configs, tt.topic)
	}
	if tt.broker1 != nil && !maps.Equal(im.BrokerConfigs["1"], tt.broker1) {
		t.Errorf("broker 1 configs = %v, want %v", im.BrokerConfigs["1"], tt.broker1)
	}
	if tt.defaults != nil && !maps.Equal(im.BrokerConfigs[""], tt.defaults) {
		t.Errorf("cluster default configs = %v, want %v", im.BrokerConfigs[""], tt.defaults)
	}
}

var (
	ok       = cfgWant{"OK", ""}
	origT    = map[string]string{"retention.ms": "1000", "cleanup.policy": "delete,compact"}
	origB1   = map[string]string{"log.retention.ms": "5000"}
	nilValue = cfgOp{key: "retention.ms", op: kmsg.IncrementalAlterConfigOpSet}
)

func TestIncrementalAlterConfigs(t *testing.T) {
	tests := []configCase{
		{name: "set and delete topic keys",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("segment.bytes", "2000000"), del("retention.ms")}}},
			want:      []cfgWant{ok}, topic: map[string]string{"segment.bytes": "2000000", "cleanup.policy": "delete,compact"}},
		{name: "subtract from a list",
			resources: []cfgResource{{topicRes, "t", []cfgOp{subtract("cleanup.policy", "delete")}}},
			want:      []cfgWant{ok}, topic: map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}},
		{name: "append to the default of an unset list",
			resources: []cfgResource{{brokerRes, "", []cfgOp{appendOp("log.cleanup.policy", "compact")}}},
			want:      []cfgWant{ok}, defaults: map[string]string{"log.cleanup.policy": "delete,compact"}},
		{name: "append to a topic key that is not a list",
			resources: []cfgResource{{topicRes, "t", []cfgOp{appendOp("retention.ms", "1")}}},
			want:      []cfgWant{{"INVALID_CONFIG", "Can't APPEND to key retention.ms because its type is not LIST."}}, topic: origT},
		{name: "subtract from an unknown topic key",
			resources: []cfgResource{{topicRes, "t", []cfgOp{subtract("nope", "1")}}},
			want:      []cfgWant{{"INVALID_CONFIG", "Can't SUBTRACT to key nope because its type is not LIST."}}},
		{name: "append to a broker key that is not a list",
			resources: []cfgResource{{brokerRes, "1", []cfgOp{appendOp("log.retention.ms", "1")}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Config value append is not allowed for config key: log.retention.ms"}}, broker1: origB1},
		{name: "invalid topic value",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("retention.ms", "soon")}}},
			want:      []cfgWant{{"INVALID_CONFIG", "Invalid value soon for configuration retention.ms: Not a number of type LONG"}}, topic: origT},
		{name: "unknown topic key",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("foo", "1")}}},
			want:      []cfgWant{{"INVALID_CONFIG", "Unknown topic config name: foo"}}, topic: origT},
		{name: "unknown topic",
			resources: []cfgResource{{topicRes, "nope", []cfgOp{set("retention.ms", "1")}}},
			want:      []cfgWant{{"UNKNOWN_TOPIC_OR_PARTITION", "The topic 'nope' does not exist."}}},
		{name: "default topic resource",
			resources: []cfgResource{{topicRes, "", []cfgOp{set("retention.ms", "1")}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Default topic resources are not allowed."}}},
		{name: "illegal topic name",
			resources: []cfgResource{{topicRes, "a/b", []cfgOp{set("retention.ms", "1")}}},
			want:      []cfgWant{{"INVALID_TOPIC_EXCEPTION", "Topic name a/b is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"}}},
		{name: "per-broker and cluster default",
			resources: []cfgResource{{brokerRes, "01", []cfgOp{set("log.retention.ms", "6000")}}, {brokerRes, "", []cfgOp{set("log.segment.bytes", "2000000")}}},
			want:      []cfgWant{ok, ok}, broker1: map[string]string{"log.retention.ms": "6000"}, defaults: map[string]string{"log.segment.bytes": "2000000"}},
		{name: "read-only broker key",
			resources: []cfgResource{{brokerRes, "1", []cfgOp{set("node.id", "3")}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Cannot update these configs dynamically: [node.id]"}}, broker1: origB1},
		{name: "broker names",
			resources: []cfgResource{{brokerRes, "x", nil}, {brokerRes, "-1", nil}, {brokerRes, "7", nil}},
			want: []cfgWant{{"INVALID_REQUEST", "Unable to parse broker name as a base 10 number."}, {"INVALID_REQUEST", "Invalid negative broker ID."},
				{"BROKER_ID_NOT_REGISTERED", "No broker with id 7 found."}}},
		{name: "duplicate resource, other one applied",
			resources: []cfgResource{{topicRes, "t", []cfgOp{del("retention.ms")}}, {brokerRes, "1", []cfgOp{del("log.retention.ms")}}, {topicRes, "t", nil}},
			want:      []cfgWant{{"INVALID_REQUEST", "Duplicate resource."}, ok}, topic: origT, broker1: map[string]string{}},
		{name: "duplicate key",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("retention.ms", "1"), del("retention.ms")}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Error due to duplicate config keys"}}, topic: origT},
		{name: "null value",
			resources: []cfgResource{{topicRes, "t", []cfgOp{nilValue}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Null value not supported for : retention.ms"}}, topic: origT},
		{name: "unknown operation",
			resources: []cfgResource{{topicRes, "t", []cfgOp{{key: "retention.ms", op: 9}}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Unknown operations type 9"}}, topic: origT},
		{name: "unsupported resource types",
			resources: []cfgResource{{kmsg.ConfigResourceTypeBrokerLogger, "1", nil}, {99, "x", nil}},
			want:      []cfgWant{{"INVALID_REQUEST", "Unknown resource type BROKER_LOGGER"}, {"UNSUPPORTED_VERSION", "Unknown resource type 99."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newConfigCluster(t)
			res, err := tc.c.IncrementalAlterConfigs(context.Background(), incrementalRequest(false, tt.resources...))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tc, res)
		})
	}
}

func TestAlterConfigs(t *testing.T) {
	tests := []configCase{
		{name: "replace topic configs",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("segment.bytes", "2000000"), set("retention.ms", "1000")}}},
			want:      []cfgWant{ok}, topic: map[string]string{"segment.bytes": "2000000", "retention.ms": "1000"}},
		{name: "replace with nothing",
			resources: []cfgResource{{topicRes, "t", nil}, {brokerRes, "1", nil}},
			want:      []cfgWant{ok, ok}, topic: map[string]string{}, broker1: map[string]string{}},
		{name: "null value",
			resources: []cfgResource{{topicRes, "t", []cfgOp{nilValue}}},
			want:      []cfgWant{{"INVALID_REQUEST", "Null value not supported for : retention.ms"}}, topic: origT},
		{name: "invalid value keeps every key",
			resources: []cfgResource{{topicRes, "t", []cfgOp{set("cleanup.policy", "sometimes")}}},
			want:      []cfgWant{{"INVALID_CONFIG", "Invalid value sometimes for configuration cleanup.policy: String must be one of: compact, delete"}}, topic: origT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newConfigCluster(t)
			res, err := tc.c.AlterConfigs(context.Background(), legacyRequest(false, tt.resources...))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tc, res)
		})
	}
}

func TestAlterConfigsValidateOnly(t *testing.T) {
	tc := newConfigCluster(t)
	before := tc.q.applied()
	res, err := tc.c.AlterConfigs(context.Background(), legacyRequest(true, cfgResource{topicRes, "t", nil}))
	if err != nil || res[0].Err != nil {
		t.Fatalf("legacy validate only: %v %+v", err, res)
	}
	res, err = tc.c.IncrementalAlterConfigs(context.Background(), incrementalRequest(true,
		cfgResource{topicRes, "t", []cfgOp{set("retention.ms", "7")}}))
	if err != nil || res[0].Err != nil {
		t.Fatalf("incremental validate only: %v %+v", err, res)
	}
	if tc.q.applied() != before || !maps.Equal(tc.image().Topics["t"].Configs, origT) {
		t.Fatalf("validate only wrote: configs %v", tc.image().Topics["t"].Configs)
	}
}

func TestLayerRecords(t *testing.T) {
	// Unchanged topic keys write nothing; broker keys always write
	// (KAFKA-14136); keys dropped by a full replace write a removal.
	v := "1"
	tests := []struct {
		name     string
		recType  int8
		cur      map[string]string
		next     map[string]string
		ch       configChange
		wantKeys []string
	}{
		{"topic unchanged", 2, map[string]string{"a": "1"}, map[string]string{"a": "1"},
			configChange{ops: []configOp{{key: "a", value: &v}}}, nil},
		{"broker unchanged", 4, map[string]string{"a": "1"}, map[string]string{"a": "1"},
			configChange{ops: []configOp{{key: "a", value: &v}}}, []string{"a"}},
		{"replace drops", 2, map[string]string{"a": "1", "b": "2"}, map[string]string{"c": "1"},
			configChange{ops: []configOp{{key: "c", value: &v}}, replace: true}, []string{"c", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := layerRecords(tt.recType, "r", tt.cur, tt.next, &tt.ch)
			var keys []string
			for _, r := range recs {
				keys = append(keys, r.Config.Key)
				_, inNext := tt.next[r.Config.Key]
				if (r.Config.Value != nil) != inNext {
					t.Errorf("record %s value %v, want set=%v", r.Config.Key, r.Config.Value, inNext)
				}
			}
			if len(keys) != len(tt.wantKeys) {
				t.Fatalf("records for %v, want %v", keys, tt.wantKeys)
			}
			for i := range keys {
				if keys[i] != tt.wantKeys[i] {
					t.Fatalf("records for %v, want %v", keys, tt.wantKeys)
				}
			}
		})
	}
}
