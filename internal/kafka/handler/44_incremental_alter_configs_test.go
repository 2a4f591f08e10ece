package handler_test

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

func TestIncrementalAlterConfigs(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "inc", 1, map[string]*string{"retention.ms": strp("1000")})
	tests := []struct {
		name    string
		ops     []kadm.AlterConfig
		wantErr string
		wantMsg string
		want    map[string]string
	}{
		{name: "set", ops: []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.bytes", Value: strp("2000000")}},
			wantErr: "OK", want: map[string]string{"retention.ms": "1000", "segment.bytes": "2000000"}},
		{name: "delete", ops: []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "retention.ms"}},
			wantErr: "OK", want: map[string]string{"segment.bytes": "2000000"}},
		{name: "append to the default", ops: []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: strp("compact")}},
			wantErr: "OK", want: map[string]string{"segment.bytes": "2000000", "cleanup.policy": "delete,compact"}},
		{name: "subtract", ops: []kadm.AlterConfig{{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: strp("delete")}},
			wantErr: "OK", want: map[string]string{"segment.bytes": "2000000", "cleanup.policy": "compact"}},
		{name: "append to a non-list", ops: []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "segment.bytes", Value: strp("1")}},
			wantErr: "INVALID_CONFIG", wantMsg: "Can't APPEND to key segment.bytes because its type is not LIST.",
			want: map[string]string{"segment.bytes": "2000000", "cleanup.policy": "compact"}},
		{name: "unknown key", ops: []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "no.such.key", Value: strp("1")}},
			wantErr: "INVALID_CONFIG", wantMsg: "Unknown topic config name: no.such.key",
			want: map[string]string{"segment.bytes": "2000000", "cleanup.policy": "compact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.adm.AlterTopicConfigs(admCtx(t), tt.ops, "inc")
			if err != nil {
				t.Fatal(err)
			}
			if errName(res[0].Err) != tt.wantErr || res[0].ErrMessage != tt.wantMsg {
				t.Errorf("got %v %q, want %s %q", res[0].Err, res[0].ErrMessage, tt.wantErr, tt.wantMsg)
			}
			if got := a.topicOverrides(t, "inc"); !maps.Equal(got, tt.want) {
				t.Errorf("overrides = %v, want %v", got, tt.want)
			}
		})
	}

	res, err := a.adm.ValidateAlterTopicConfigs(admCtx(t), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "segment.bytes"}}, "inc")
	if err != nil || res[0].Err != nil {
		t.Fatalf("validate only: %v %+v", err, res)
	}
	if got := a.topicOverrides(t, "inc"); got["segment.bytes"] != "2000000" {
		t.Errorf("validate only changed the overrides: %v", got)
	}
}

func TestIncrementalAlterBrokerConfigs(t *testing.T) {
	a := startAdmin(t)
	res, err := a.adm.AlterBrokerConfigs(admCtx(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: strp("120000")}}, 1)
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter broker 1: %v %+v", err, res)
	}
	rcs, err := a.adm.DescribeBrokerConfigs(admCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := findConfig(t, rcs[0], "log.retention.ms")
	if c.MaybeValue() != "120000" || c.Source.String() != "DYNAMIC_BROKER_CONFIG" {
		t.Errorf("log.retention.ms = %q from %s", c.MaybeValue(), c.Source)
	}
}
