package integration

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// These tests send what Kafka 4's own tools send (kafka-features.sh,
// kafka-acls.sh, kafka-configs.sh: the Java admin client) and expect what
// a Kafka 4 broker answers (issue 13, defect 13).

// finalized returns the finalized feature levels and the supported ranges
// an ApiVersions v4 answer carries.
func finalized(ctx context.Context, t *testing.T, cl *kgo.Client) (map[string]int16, map[string][2]int16) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 4
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kafka-features", "4.0.0"
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.FinalizedFeaturesEpoch < 0 {
		t.Fatalf("finalized features epoch %d: clients would ignore the levels", resp.FinalizedFeaturesEpoch)
	}
	levels, ranges := map[string]int16{}, map[string][2]int16{}
	for _, f := range resp.FinalizedFeatures {
		levels[f.Name] = f.MaxVersionLevel
	}
	for _, f := range resp.SupportedFeatures {
		ranges[f.Name] = [2]int16{f.MinVersion, f.MaxVersion}
	}
	return levels, ranges
}

func updateFeature(ctx context.Context, t *testing.T, cl *kgo.Client, name string, level int16, typ int8, validateOnly bool) *kmsg.UpdateFeaturesResponse {
	t.Helper()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.ValidateOnly = validateOnly
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = name, level, typ
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestFeaturesAsKafka4(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := nodetest.StartRestartable(t)
	cl := nodetest.Client(t, r.Node)
	levels, ranges := finalized(ctx, t, cl)
	wantLevels := map[string]int16{"metadata.version": 25, "transaction.version": 2, "group.version": 1}
	for name, want := range wantLevels {
		if levels[name] != want {
			t.Errorf("finalized %s = %d, want %d (all: %v)", name, levels[name], want, levels)
		}
	}
	if ranges["transaction.version"] != [2]int16{0, 2} || ranges["metadata.version"][1] != 25 || ranges["group.version"] != [2]int16{0, 1} {
		t.Errorf("supported features %v", ranges)
	}

	for _, tc := range []struct {
		name     string
		feature  string
		level    int16
		typ      int8
		validate bool
		want     int16
	}{
		{"downgrade without saying so", "transaction.version", 1, 1, false, kerr.InvalidUpdateVersion.Code},
		{"unknown feature", "no.such.version", 1, 1, false, kerr.InvalidUpdateVersion.Code},
		{"beyond the supported range", "transaction.version", 3, 1, false, kerr.InvalidUpdateVersion.Code},
		{"metadata.version downgrade", "metadata.version", 21, 2, false, kerr.InvalidUpdateVersion.Code},
		{"kraft.version", "kraft.version", 1, 1, false, kerr.InvalidUpdateVersion.Code},
		{"validate only", "transaction.version", 0, 2, true, 0},
		{"safe downgrade of transactions", "transaction.version", 1, 2, false, 0},
		{"consumer protocol off", "group.version", 0, 2, false, 0},
	} {
		resp := updateFeature(ctx, t, cl, tc.feature, tc.level, tc.typ, tc.validate)
		if resp.ErrorCode != tc.want {
			t.Errorf("%s: error %d (%v), want %d", tc.name, resp.ErrorCode, resp.ErrorMessage, tc.want)
		}
		if tc.want == 0 && resp.Version <= 1 && (len(resp.Results) != 1 || resp.Results[0].ErrorCode != 0) {
			t.Errorf("%s: results %+v", tc.name, resp.Results)
		}
	}
	// v0-1 answer each feature (v2 only at the top level).
	v1 := kmsg.NewPtrUpdateFeaturesRequest()
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = "transaction.version", 1, 1
	v1.FeatureUpdates = append(v1.FeatureUpdates, u)
	if resp := dial(t, r.Node).request(v1, 1).(*kmsg.UpdateFeaturesResponse); resp.ErrorCode != 0 ||
		len(resp.Results) != 1 || resp.Results[0].Feature != "transaction.version" || resp.Results[0].ErrorCode != 0 {
		t.Errorf("UpdateFeatures v1: %+v", resp)
	}

	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.MemberEpoch, hb.RebalanceTimeoutMillis = "g", "m1", 0, 5000
	hb.SubscribedTopicNames = []string{"t"}
	hresp, err := hb.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if hresp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Errorf("consumer group heartbeat with group.version 0: error %d, want UNSUPPORTED_VERSION", hresp.ErrorCode)
	}

	n := r.Restart()
	levels, _ = finalized(ctx, t, nodetest.Client(t, n))
	if levels["transaction.version"] != 1 {
		t.Errorf("transaction.version after a restart = %d, want 1", levels["transaction.version"])
	}
	if _, ok := levels["group.version"]; ok {
		t.Errorf("group.version finalized at 0 is listed: %v", levels)
	}
}

func TestACLAPIsWithoutAuthorizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := nodetest.Client(t, nodetest.Start(t))
	d := kmsg.NewPtrDescribeACLsRequest()
	d.ResourceType, d.ResourcePatternType, d.Operation, d.PermissionType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	dresp, err := d.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if dresp.ErrorCode != kerr.SecurityDisabled.Code {
		t.Errorf("DescribeAcls: error %d, want SECURITY_DISABLED", dresp.ErrorCode)
	}
	c := kmsg.NewPtrCreateACLsRequest()
	cr := kmsg.NewCreateACLsRequestCreation()
	cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = kmsg.ACLResourceTypeTopic, "t", kmsg.ACLResourcePatternTypeLiteral
	cr.Principal, cr.Host, cr.Operation, cr.PermissionType = "User:alice", "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
	c.Creations = append(c.Creations, cr, cr)
	cresp, err := c.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(cresp.Results) != 2 || cresp.Results[0].ErrorCode != kerr.SecurityDisabled.Code {
		t.Errorf("CreateAcls: %+v, want SECURITY_DISABLED per creation", cresp.Results)
	}
	del := kmsg.NewPtrDeleteACLsRequest()
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourcePatternType, f.Operation, f.PermissionType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	del.Filters = append(del.Filters, f)
	delresp, err := del.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(delresp.Results) != 1 || delresp.Results[0].ErrorCode != kerr.SecurityDisabled.Code {
		t.Errorf("DeleteAcls: %+v, want SECURITY_DISABLED per filter", delresp.Results)
	}
}

func TestAlterBrokerConfigsAsKafka4(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := nodetest.Client(t, nodetest.Start(t))
	alter := func(name, key, value string) int16 {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		res := kmsg.NewIncrementalAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, name
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value, c.Op = key, kmsg.StringPtr(value), kmsg.IncrementalAlterConfigOpSet
		res.Configs = append(res.Configs, c)
		req.Resources = append(req.Resources, res)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Resources[0].ErrorCode
	}
	for _, tc := range []struct {
		name, broker, key, value string
		want                     int16
	}{
		{"invalid value", "1", "log.retention.ms", "soon", kerr.InvalidRequest.Code},
		{"read-only key", "1", "num.partitions", "3", kerr.InvalidRequest.Code},
		{"unknown key of a broker", "1", "custom.plugin.setting", "x", 0},
		{"valid value", "1", "log.retention.ms", "60000", 0},
	} {
		if got := alter(tc.broker, tc.key, tc.value); got != tc.want {
			t.Errorf("%s: error %d, want %d", tc.name, got, tc.want)
		}
	}
}
