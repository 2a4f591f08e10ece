package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeCluster(t *testing.T) {
	a := startAdmin(t)
	md, err := a.adm.BrokerMetadata(admCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		version     int16
		endpoint    int8
		includeOps  bool
		wantErr     string
		wantOps     int32
		wantBrokers int
	}{
		{name: "v0", version: 0, wantErr: "OK", wantOps: -2147483648, wantBrokers: 1},
		{name: "v2 with operations", version: 2, endpoint: 1, includeOps: true, wantErr: "OK", wantOps: 8096, wantBrokers: 1},
		{name: "controller endpoint", version: 1, endpoint: 2, wantErr: "MISMATCHED_ENDPOINT_TYPE"},
		{name: "unknown endpoint", version: 1, endpoint: 9, wantErr: "UNSUPPORTED_ENDPOINT_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.EndpointType, req.IncludeClusterAuthorizedOperations = tt.endpoint, tt.includeOps
			resp := a.requestAt(t, tt.version, req).(*kmsg.DescribeClusterResponse)
			if codeName(resp.ErrorCode) != tt.wantErr {
				t.Fatalf("error %s, want %s", codeName(resp.ErrorCode), tt.wantErr)
			}
			if tt.wantErr != "OK" {
				if resp.ErrorMessage == nil {
					t.Error("no error message")
				}
				return
			}
			if resp.ClusterID != md.Cluster || resp.ControllerID != 1 || resp.ClusterAuthorizedOperations != tt.wantOps {
				t.Errorf("cluster %q controller %d ops %d, want %q 1 %d", resp.ClusterID, resp.ControllerID, resp.ClusterAuthorizedOperations, md.Cluster, tt.wantOps)
			}
			if len(resp.Brokers) != tt.wantBrokers {
				t.Fatalf("brokers = %+v", resp.Brokers)
			}
			br := resp.Brokers[0]
			want := md.Brokers[0]
			if br.NodeID != 1 || br.Host != want.Host || br.Port != want.Port || br.Rack != nil || br.IsFenced {
				t.Errorf("broker %+v, want %+v", br, want)
			}
		})
	}
}
