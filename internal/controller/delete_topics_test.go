package controller

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

func TestDeleteTopics(t *testing.T) {
	str := func(s string) *string { return &s }
	unknownID := model.NewTopicID()
	type want struct {
		name, err, msg string
		byID           bool // the result carries the topic's id
	}
	tests := []struct {
		name    string
		names   []string // v0-5 TopicNames
		topics  func(a, b model.TopicID) []kmsg.DeleteTopicsRequestTopic
		want    []want
		deleted []string
		kept    []string
	}{
		{
			name:    "by name",
			names:   []string{"a"},
			want:    []want{{name: "a", err: "OK", byID: true}},
			deleted: []string{"a"}, kept: []string{"b", "__consumer_offsets"},
		},
		{
			name:    "several by name, one unknown",
			names:   []string{"a", "nope", "b"},
			want:    []want{{name: "a", err: "OK", byID: true}, {name: "nope", err: "UNKNOWN_TOPIC_OR_PARTITION", msg: "This server does not host this topic-partition."}, {name: "b", err: "OK", byID: true}},
			deleted: []string{"a", "b"},
		},
		{
			name:    "name given twice",
			names:   []string{"a", "a", "b"},
			want:    []want{{name: "a", err: "INVALID_REQUEST", msg: "Duplicate topic name."}, {name: "b", err: "OK", byID: true}},
			deleted: []string{"b"}, kept: []string{"a"},
		},
		{
			name: "by id",
			topics: func(a, _ model.TopicID) []kmsg.DeleteTopicsRequestTopic {
				return []kmsg.DeleteTopicsRequestTopic{{TopicID: a}, {TopicID: unknownID}}
			},
			want:    []want{{name: "a", err: "OK", byID: true}, {err: "UNKNOWN_TOPIC_ID", msg: "This server does not host this topic ID."}},
			deleted: []string{"a"}, kept: []string{"b"},
		},
		{
			name: "v6 by name",
			topics: func(model.TopicID, model.TopicID) []kmsg.DeleteTopicsRequestTopic {
				return []kmsg.DeleteTopicsRequestTopic{{Topic: str("b")}}
			},
			want:    []want{{name: "b", err: "OK", byID: true}},
			deleted: []string{"b"}, kept: []string{"a"},
		},
		{
			name: "id given twice",
			topics: func(a, _ model.TopicID) []kmsg.DeleteTopicsRequestTopic {
				return []kmsg.DeleteTopicsRequestTopic{{TopicID: a}, {TopicID: a}}
			},
			want: []want{{err: "INVALID_REQUEST", msg: "Duplicate topic id."}},
			kept: []string{"a"},
		},
		{
			name: "name and id of the same topic",
			topics: func(a, _ model.TopicID) []kmsg.DeleteTopicsRequestTopic {
				return []kmsg.DeleteTopicsRequestTopic{{TopicID: a}, {Topic: str("a")}}
			},
			want: []want{
				{name: "a", err: "INVALID_REQUEST", msg: "The provided topic name maps to an ID that was already supplied.", byID: true},
				{name: "a", err: "INVALID_REQUEST", msg: "The provided topic name maps to an ID that was already supplied.", byID: true},
			},
			kept: []string{"a"},
		},
		{
			name: "both or neither",
			topics: func(a, _ model.TopicID) []kmsg.DeleteTopicsRequestTopic {
				return []kmsg.DeleteTopicsRequestTopic{{Topic: str("a"), TopicID: a}, {}}
			},
			want: []want{
				{name: "a", err: "INVALID_REQUEST", msg: "You may not specify both topic name and topic id.", byID: true},
				{err: "INVALID_REQUEST", msg: "Neither topic name nor id were specified."},
			},
			kept: []string{"a"},
		},
		{
			name:  "internal topic refused, the others deleted",
			names: []string{"__consumer_offsets", "a"},
			want: []want{{name: "__consumer_offsets", err: "INVALID_TOPIC_EXCEPTION", msg: "Topic __consumer_offsets is internal and cannot be deleted."},
				{name: "a", err: "OK", byID: true}},
			deleted: []string{"a"}, kept: []string{"__consumer_offsets"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, Options{}, 1, 2)
			topicIDs := map[string]model.TopicID{
				"a":                  tc.createTopic(t, "a", []int32{1}, []int32{2}),
				"b":                  tc.createTopic(t, "b", []int32{2, 1}),
				"__consumer_offsets": tc.createTopic(t, "__consumer_offsets", []int32{1}),
			}
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.TopicNames = tt.names
			if tt.topics != nil {
				req.Topics = tt.topics(topicIDs["a"], topicIDs["b"])
			}
			before := tc.q.applied()
			res, err := tc.c.DeleteTopics(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(tt.want) {
				t.Fatalf("got %d results %+v, want %d", len(res), res, len(tt.want))
			}
			for i, w := range tt.want {
				r := res[i]
				if r.Name != w.name || errName(r.Err) != w.err || r.Message != w.msg {
					t.Errorf("result %d = %q %s %q, want %q %s %q", i, r.Name, errName(r.Err), r.Message, w.name, w.err, w.msg)
				}
				if w.byID && r.ID != topicIDs[w.name] {
					t.Errorf("result %d id = %s, want %s", i, r.ID, topicIDs[w.name])
				}
			}
			im := tc.image()
			for _, n := range tt.deleted {
				if im.Topics[n] != nil || im.TopicIDs[topicIDs[n]] != nil {
					t.Errorf("topic %s not deleted", n)
				}
			}
			for _, n := range tt.kept {
				if im.Topics[n] == nil {
					t.Errorf("topic %s deleted", n)
				}
			}
			wantEntries := 0
			if len(tt.deleted) > 0 {
				wantEntries = 1 // every removal in one entry
			}
			if got := tc.q.applied() - before; got != wantEntries {
				t.Errorf("entries written = %d, want %d", got, wantEntries)
			}
		})
	}
}

func TestDeleteTopicThenRecreate(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1)
	old := tc.createTopic(t, "t", []int32{1})
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TopicNames = []string{"t"}
	if res, err := tc.c.DeleteTopics(context.Background(), req); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %+v", err, res)
	}
	id := tc.createTopic(t, "t", []int32{1})
	if id == old {
		t.Fatal("recreated topic kept the old id")
	}
	if got := tc.image().Topics["t"]; got == nil || got.ID != id || len(got.Configs) != 0 {
		t.Fatalf("recreated topic = %+v", got)
	}
}
