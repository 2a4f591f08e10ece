package handler_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/node"
)

func TestDeleteTopicsByName(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "doomed", 2, nil)
	a.createTopic(t, "kept", 1, nil)
	a.produce(t, "doomed", 1, 3)
	if _, err := os.Stat(filepath.Join(a.dataDir, "doomed-1")); err != nil {
		t.Fatalf("partition dir before delete: %v", err)
	}
	res, err := a.adm.DeleteTopics(admCtx(t), "doomed", "nope")
	if err != nil {
		t.Fatal(err)
	}
	if got := errName(res["doomed"].Err); got != "OK" {
		t.Errorf("delete doomed: %s %s", got, res["doomed"].ErrMessage)
	}
	if res["doomed"].ID == ([16]byte{}) {
		t.Error("delete doomed: no topic id in the answer")
	}
	if got := errName(res["nope"].Err); got != "UNKNOWN_TOPIC_OR_PARTITION" {
		t.Errorf("delete nope: %s", got)
	}
	md, err := a.adm.Metadata(admCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if md.Topics.Has("doomed") || !md.Topics.Has("kept") {
		t.Errorf("topics after delete: %v", md.Topics.Names())
	}
	for _, p := range []string{"doomed-0", "doomed-1"} {
		if _, err := os.Stat(filepath.Join(a.dataDir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("partition dir %s after delete: %v", p, err)
		}
	}
}

func TestDeleteTopicsByID(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "byid", 1, nil)
	md, err := a.adm.Metadata(admCtx(t), "byid")
	if err != nil {
		t.Fatal(err)
	}
	id := md.Topics["byid"].ID
	unknown := [16]byte{1, 2, 3}
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: id}, {TopicID: unknown}}
	resp := a.requestAt(t, 6, req).(*kmsg.DeleteTopicsResponse)
	if len(resp.Topics) != 2 {
		t.Fatalf("%d results, want 2", len(resp.Topics))
	}
	ok, bad := resp.Topics[0], resp.Topics[1]
	if codeName(ok.ErrorCode) != "OK" || ok.Topic == nil || *ok.Topic != "byid" || ok.TopicID != id {
		t.Errorf("delete by id: %s %v %v", codeName(ok.ErrorCode), ok.Topic, ok.TopicID)
	}
	if codeName(bad.ErrorCode) != "UNKNOWN_TOPIC_ID" || bad.Topic != nil || bad.ErrorMessage == nil {
		t.Errorf("delete unknown id: %s topic %v message %v", codeName(bad.ErrorCode), bad.Topic, bad.ErrorMessage)
	}
}

func TestDeleteTopicsDisabled(t *testing.T) {
	cfg, _, err := config.Load("", map[string]string{"delete.topic.enable": "false"})
	if err != nil {
		t.Fatal(err)
	}
	a := startAdmin(t, func(o *node.Options) { o.Handler.Config = cfg })
	a.createTopic(t, "stays", 1, nil)
	for _, tt := range []struct {
		version int16
		want    *kerr.Error
	}{{2, kerr.InvalidRequest}, {5, kerr.TopicDeletionDisabled}} {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = []string{"stays"}
		resp := a.requestAt(t, tt.version, req).(*kmsg.DeleteTopicsResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != tt.want.Code {
			t.Errorf("v%d: %+v, want %s", tt.version, resp.Topics, tt.want.Message)
		}
	}
	md, err := a.adm.Metadata(admCtx(t), "stays")
	if err != nil || md.Topics["stays"].Err != nil {
		t.Fatalf("topic gone with deletion disabled: %v %v", err, md.Topics["stays"].Err)
	}
}
