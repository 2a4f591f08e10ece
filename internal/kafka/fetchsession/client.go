package fetchsession

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client is a fetcher's side of one session (Kafka's
// FetchSessionHandler): it turns the partitions the fetcher reads now
// into a full request that opens a session, then into incremental ones
// that carry only what changed. Not safe for concurrent use: one fetcher,
// one request at a time.
type Client struct {
	id, epoch int32 // id 0: no session; epoch: that of the next request
	// closing is a session dropped by Reset that the next full request
	// closes on the broker (Kafka's nextCloseExisting), 0 for none.
	closing int32
	sent    map[clientKey]sentPartition // what the session holds
	pending map[clientKey]sentPartition // what it holds once the request in flight is answered
}

// clientKey names a partition on the client side, which knows both its
// topic's name and id.
type clientKey struct {
	topic     string
	partition int32
}

// sentPartition is a partition as the session holds it.
type sentPartition struct {
	topicID [16]byte // a Fetch v13+ names forgotten topics by id
	req     kmsg.FetchRequestTopicPartition
}

// Build sets req's session fields and topics for a fetch of want (every
// partition the fetcher reads now, each topic with its name and id, at
// its current positions): in full when no session is open, else only the
// partitions whose positions changed, with those left out of want
// forgotten. Handle or Reset must follow before the next Build.
func (c *Client) Build(req *kmsg.FetchRequest, want []kmsg.FetchRequestTopic) {
	c.pending = make(map[clientKey]sentPartition, len(c.sent))
	for _, rt := range want {
		for _, rp := range rt.Partitions {
			c.pending[clientKey{rt.Topic, rp.Partition}] = sentPartition{rt.TopicID, rp}
		}
	}
	req.SessionID, req.SessionEpoch = c.id, c.epoch
	req.Topics, req.ForgottenTopics = req.Topics[:0], req.ForgottenTopics[:0]
	if c.id == 0 {
		// A full request opens a session (epoch 0), closing the one a
		// reset dropped, which would otherwise hold a slot until evicted.
		req.SessionID = c.closing
		req.Topics = append(req.Topics, want...)
		return
	}
	for _, rt := range want {
		var changed []kmsg.FetchRequestTopicPartition
		for _, rp := range rt.Partitions {
			if old, ok := c.sent[clientKey{rt.Topic, rp.Partition}]; !ok || !samePosition(old.req, rp) {
				changed = append(changed, rp)
			}
		}
		if len(changed) > 0 {
			t := rt
			t.Partitions = changed
			req.Topics = append(req.Topics, t)
		}
	}
	forgotten := map[string]int{} // topic -> its index in req.ForgottenTopics
	for k, sp := range c.sent {
		if _, ok := c.pending[k]; ok {
			continue
		}
		i, ok := forgotten[k.topic]
		if !ok {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic, ft.TopicID = k.topic, sp.topicID
			i = len(req.ForgottenTopics)
			forgotten[k.topic] = i
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, k.partition)
	}
}

// Handle takes the answer to the request Build made: the session it
// opened or continued, or, on a session error or an answer without a
// session, a full request next time.
func (c *Client) Handle(resp *kmsg.FetchResponse) {
	if resp.ErrorCode != 0 || resp.SessionID == 0 || (c.id != 0 && resp.SessionID != c.id) {
		c.Reset()
		return
	}
	c.id, c.epoch, c.closing = resp.SessionID, nextEpoch(c.epoch), 0
	c.sent, c.pending = c.pending, nil
}

// Reset drops the session (a failed request, a new connection): the next
// request is a full one.
func (c *Client) Reset() {
	if c.id != 0 {
		c.closing = c.id
	}
	c.id, c.epoch, c.sent, c.pending = 0, 0, nil, nil
}

// SessionID is the open session's id, 0 for none.
func (c *Client) SessionID() int32 { return c.id }

// samePosition reports whether a and b ask for the same read.
func samePosition(a, b kmsg.FetchRequestTopicPartition) bool {
	return a.FetchOffset == b.FetchOffset && a.LogStartOffset == b.LogStartOffset &&
		a.CurrentLeaderEpoch == b.CurrentLeaderEpoch && a.LastFetchedEpoch == b.LastFetchedEpoch &&
		a.PartitionMaxBytes == b.PartitionMaxBytes && a.ReplicaDirectoryID == b.ReplicaDirectoryID
}
