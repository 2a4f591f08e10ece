package fetchsession

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// want is the fetcher's partitions of topic t now, at their offsets.
func want(offsets ...int64) []kmsg.FetchRequestTopic {
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "t", [16]byte{1}
	for p, off := range offsets {
		if off < 0 {
			continue // not read any more
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset = int32(p), off
		rt.Partitions = append(rt.Partitions, rp)
	}
	return []kmsg.FetchRequestTopic{rt}
}

// The client side against the cache: a full request opens the session,
// the next ones name only the moved partitions and forget the dropped
// ones, and a session error starts over in full.
func TestClientAgainstCache(t *testing.T) {
	cache := NewCache(10, nil)
	var cl Client
	round := func(w []kmsg.FetchRequestTopic) (sent string, read string) {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.Version = 13
		cl.Build(req, w)
		sent = fetched(req)
		for _, ft := range req.ForgottenTopics {
			for _, p := range ft.Partitions {
				sent += "forget-" + string(rune('0'+p)) + " "
			}
		}
		wire := kmsg.NewPtrFetchRequest() // what the broker decodes at v13: topics by id only (fetched prints them without a name)
		wire.Version, wire.SessionID, wire.SessionEpoch, wire.ForgottenTopics = 13, req.SessionID, req.SessionEpoch, req.ForgottenTopics
		for _, rt := range req.Topics {
			rt.Topic = ""
			wire.Topics = append(wire.Topics, rt)
		}
		for i := range wire.ForgottenTopics {
			wire.ForgottenTopics[i].Topic = ""
		}
		f, code := cache.Begin(wire)
		resp := kmsg.NewPtrFetchResponse()
		resp.ErrorCode = code
		if f != nil {
			resp.SessionID = f.s.id
		}
		cl.Handle(resp)
		return sent, fetched(wire)
	}
	if sent, _ := round(want(0, 0, 0)); sent != "t-0@0 t-1@0 t-2@0 " || cl.SessionID() == 0 {
		t.Fatalf("first request %q, session %d", sent, cl.SessionID())
	}
	sent, read := round(want(4, 0, 0))
	if sent != "t-0@4 " || read != "-0@4 -1@0 -2@0 " {
		t.Fatalf("after partition 0 moved: sent %q, read %q", sent, read)
	}
	if sent, read = round(want(4, -1, 0)); sent != "forget-1 " || read != "-0@4 -2@0 " {
		t.Fatalf("after partition 1 was dropped: sent %q, read %q", sent, read)
	}
	cache.remove(cl.SessionID()) // the broker restarted
	round(want(4, -1, 0))
	if cl.SessionID() != 0 {
		t.Fatal("the client kept a session the broker lost")
	}
	if sent, _ := round(want(4, -1, 0)); sent != "t-0@4 t-2@0 " || cl.SessionID() == 0 {
		t.Fatalf("after the session was lost: sent %q, session %d", sent, cl.SessionID())
	}
	cl.Reset() // a request that failed: its outcome unknown
	round(want(4, -1, 0))
	if cache.Len() != 1 {
		t.Fatalf("%d sessions on the broker after a reset, want 1 (the full request closes the old one)", cache.Len())
	}
}
