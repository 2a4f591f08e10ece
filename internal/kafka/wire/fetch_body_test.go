package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

// recordsFile writes n random bytes to a temp file standing for a segment.
func recordsFile(t testing.TB, n int) (*os.File, []byte) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// fetchCase is one random response, as given to EncodeFetch and as kmsg
// must decode it at its version.
type fetchCase struct {
	in   FetchResponse
	want kmsg.FetchResponse
}

func randomFetch(rng *rand.Rand, version int16, f *os.File, data []byte) fetchCase {
	var c fetchCase
	c.want = kmsg.FetchResponse{Version: version}
	c.in.ThrottleMillis = rng.Int32N(1000)
	c.want.ThrottleMillis = c.in.ThrottleMillis
	if rng.IntN(3) == 0 {
		c.in.ErrorCode, c.in.SessionID = 70, rng.Int32() // FETCH_SESSION_ID_NOT_FOUND
	}
	if version >= 7 {
		c.want.ErrorCode, c.want.SessionID = c.in.ErrorCode, c.in.SessionID
	}
	for ti := range 1 + rng.IntN(3) {
		in := FetchTopic{Topic: fmt.Sprintf("topic-%d", ti)}
		binary.BigEndian.PutUint64(in.TopicID[:], rng.Uint64())
		binary.BigEndian.PutUint64(in.TopicID[8:], rng.Uint64())
		want := kmsg.NewFetchResponseTopic()
		if version >= 13 {
			want.TopicID = in.TopicID
		} else {
			want.Topic = in.Topic
		}
		for pi := range rng.IntN(5) {
			p, wp := randomPartition(rng, version, int32(pi), f, data)
			in.Partitions = append(in.Partitions, p)
			want.Partitions = append(want.Partitions, wp)
		}
		c.in.Topics = append(c.in.Topics, in)
		c.want.Topics = append(c.want.Topics, want)
	}
	if version >= 12 && rng.IntN(2) == 0 {
		rack := "rack-a"
		c.in.NodeEndpoints = []NodeEndpoint{{NodeID: 1, Host: "b1.example", Port: 9092, Rack: &rack}, {NodeID: 2, Host: "b2", Port: 9093}}
		if version >= 16 {
			c.want.Brokers = []kmsg.FetchResponseBroker{{NodeID: 1, Host: "b1.example", Port: 9092, Rack: &rack}, {NodeID: 2, Host: "b2", Port: 9093}}
		}
	}
	return c
}

func randomPartition(rng *rand.Rand, version int16, id int32, f *os.File, data []byte) (FetchPartition, kmsg.FetchResponseTopicPartition) {
	p := NewFetchPartition(id, 0)
	want := kmsg.NewFetchResponseTopicPartition()
	want.Partition = id
	if rng.IntN(4) == 0 {
		p.ErrorCode = [...]int16{1, 3, 6, 74, 100}[rng.IntN(5)]
		want.ErrorCode, want.HighWatermark = p.ErrorCode, -1
	} else {
		p.LogStartOffset = model.Offset(rng.Int64N(1000))
		p.LastStableOffset = p.LogStartOffset + model.Offset(rng.Int64N(1000))
		p.HighWatermark = p.LastStableOffset + model.Offset(rng.Int64N(10))
		want.HighWatermark, want.LastStableOffset = int64(p.HighWatermark), int64(p.LastStableOffset)
		if version >= 5 {
			want.LogStartOffset = int64(p.LogStartOffset)
		}
	}
	switch rng.IntN(3) {
	case 1:
		p.AbortedTransactions = []AbortedTransaction{}
		want.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	case 2:
		for range 1 + rng.IntN(3) {
			a := AbortedTransaction{ProducerID: model.ProducerID(rng.Int64()), FirstOffset: model.Offset(rng.Int64N(1 << 40))}
			p.AbortedTransactions = append(p.AbortedTransactions, a)
			want.AbortedTransactions = append(want.AbortedTransactions,
				kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: int64(a.ProducerID), FirstOffset: int64(a.FirstOffset)})
		}
	}
	if rng.IntN(2) == 0 {
		p.PreferredReadReplica = model.NodeID(rng.Int32N(5))
		if version >= 11 {
			want.PreferredReadReplica = int32(p.PreferredReadReplica)
		}
	}
	pos := rng.Int64N(int64(len(data)))
	n := rng.Int64N(int64(len(data)) - pos + 1)
	want.RecordBatches = []byte{}
	switch rng.IntN(3) {
	case 1:
		p.Records = FileSection{File: f, Pos: pos, Len: n}
		want.RecordBatches = data[pos : pos+n]
	case 2:
		p.RecordsBytes = data[pos : pos+n]
		want.RecordBatches = p.RecordsBytes
	}
	randomTags(rng, version, &p, &want)
	return p, want
}

// randomTags sets the tagged fields sometimes, and sometimes sets them to
// Kafka's -1 defaults, which must not be sent.
func randomTags(rng *rand.Rand, version int16, p *FetchPartition, want *kmsg.FetchResponseTopicPartition) {
	if version < 12 {
		return
	}
	switch rng.IntN(3) {
	case 1:
		p.DivergingEpoch = &DivergingEpoch{Epoch: 4, EndOffset: model.Offset(rng.Int64N(1 << 33))}
		want.DivergingEpoch.Epoch, want.DivergingEpoch.EndOffset = 4, int64(p.DivergingEpoch.EndOffset)
	case 2:
		p.DivergingEpoch = &DivergingEpoch{Epoch: -1, EndOffset: -1}
	}
	switch rng.IntN(3) {
	case 1:
		p.CurrentLeader = &CurrentLeader{LeaderID: 2, LeaderEpoch: model.LeaderEpoch(rng.Int32N(100))}
		want.CurrentLeader.LeaderID, want.CurrentLeader.LeaderEpoch = 2, int32(p.CurrentLeader.LeaderEpoch)
	case 2:
		p.CurrentLeader = &CurrentLeader{LeaderID: -1, LeaderEpoch: -1}
	}
	if rng.IntN(4) == 0 {
		p.SnapshotID = &SnapshotID{EndOffset: 77, Epoch: 3}
		want.SnapshotID.EndOffset, want.SnapshotID.Epoch = 77, 3
	}
}

// firstDiff describes where two byte strings first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-16, 0)
	return fmt.Sprintf("at byte %d of %d (want %d):\ngot  ...%x\nwant ...%x",
		i, len(got), len(want), got[lo:min(i+16, len(got))], want[lo:min(i+16, len(want))])
}

// frameBody checks a frame's size and header and returns its body.
func frameBody(t *testing.T, frame []byte, correlationID int32, flexible bool) []byte {
	t.Helper()
	hdr := 8
	if flexible {
		hdr = 9
	}
	if len(frame) < hdr {
		t.Fatalf("frame of %d bytes", len(frame))
	}
	if size := int(binary.BigEndian.Uint32(frame)); size != len(frame)-4 {
		t.Fatalf("frame size %d, have %d bytes after it", size, len(frame)-4)
	}
	if got := int32(binary.BigEndian.Uint32(frame[4:])); got != correlationID {
		t.Fatalf("correlation id %d, want %d", got, correlationID)
	}
	if flexible && frame[8] != 0 {
		t.Fatalf("header tagged fields %#x, want 0", frame[8])
	}
	return frame[hdr:]
}

func TestEncodeFetchMatchesKmsg(t *testing.T) {
	f, data := recordsFile(t, 6<<10)
	if max := (&kmsg.FetchResponse{}).MaxVersion(); max != FetchMaxVersion {
		t.Fatalf("kmsg serves Fetch up to v%d, encoder up to v%d", max, FetchMaxVersion)
	}
	var body Body
	for v := FetchMinVersion; v <= FetchMaxVersion; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(v), 42))
			for i := range 40 {
				c := randomFetch(rng, v, f, data)
				if err := EncodeFetch(v, &c.in, &body); err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				n, err := body.WriteFrame(&buf, int32(i), v >= 12)
				if err != nil || n != int64(buf.Len()) {
					t.Fatalf("WriteFrame = %d, %v; wrote %d", n, err, buf.Len())
				}
				got := frameBody(t, buf.Bytes(), int32(i), v >= 12)
				if int64(len(got)) != body.Len() {
					t.Fatalf("Len %d, body has %d bytes", body.Len(), len(got))
				}
				if want := c.want.AppendTo(nil); !bytes.Equal(got, want) {
					t.Fatalf("case %d: bytes differ from kmsg's AppendTo %s", i, firstDiff(got, want))
				}
				dec := kmsg.FetchResponse{Version: v}
				if err := dec.ReadFrom(got); err != nil {
					t.Fatalf("case %d: kmsg decode: %v", i, err)
				}
				if !reflect.DeepEqual(dec, c.want) {
					t.Fatalf("case %d: decoded\n%+v\nwant\n%+v", i, dec, c.want)
				}
			}
		})
	}
}

// Kafka sends a partition without data with an empty, non-null records
// field; the in-memory and file forms of the same records give one frame.
func TestEncodeFetchRecordsForms(t *testing.T) {
	f, data := recordsFile(t, 1000)
	const v = 17
	encode := func(p FetchPartition) []byte {
		t.Helper()
		var body Body
		r := FetchResponse{Topics: []FetchTopic{{Topic: "t", Partitions: []FetchPartition{p}}}}
		if err := EncodeFetch(v, &r, &body); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := body.WriteFrame(&buf, 1, true); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	empty := encode(NewFetchPartition(0, 0))
	if !bytes.Equal(empty, encode(FetchPartition{HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1, PreferredReadReplica: -1, RecordsBytes: []byte{}})) {
		t.Fatal("nil and empty RecordsBytes encode differently")
	}
	var dec kmsg.FetchResponse
	dec.Version = v
	if err := dec.ReadFrom(frameBody(t, empty, 1, true)); err != nil {
		t.Fatal(err)
	}
	if rb := dec.Topics[0].Partitions[0].RecordBatches; rb == nil || len(rb) != 0 {
		t.Fatalf("records %v, want empty and not null", rb)
	}
	fromFile := NewFetchPartition(0, 0)
	fromFile.Records = FileSection{File: f, Pos: 100, Len: 500}
	inMem := NewFetchPartition(0, 0)
	inMem.RecordsBytes = data[100:600]
	if !bytes.Equal(encode(fromFile), encode(inMem)) {
		t.Fatal("file and memory forms of the same records encode differently")
	}
}

func TestEncodeFetchErrors(t *testing.T) {
	f, _ := recordsFile(t, 100)
	one := func(p FetchPartition) *FetchResponse {
		return &FetchResponse{Topics: []FetchTopic{{Topic: "t", Partitions: []FetchPartition{p}}}}
	}
	tests := []struct {
		name    string
		version int16
		resp    *FetchResponse
		want    error
	}{
		{"version too old", 3, &FetchResponse{}, ErrUnsupportedVersion},
		{"version too new", FetchMaxVersion + 1, &FetchResponse{}, ErrUnsupportedVersion},
		{"file and bytes", 12, one(FetchPartition{Records: FileSection{File: f, Len: 10}, RecordsBytes: []byte{1}}), ErrRecords},
		{"negative length", 12, one(FetchPartition{Records: FileSection{File: f, Len: -1}}), ErrRecords},
		{"negative position", 12, one(FetchPartition{Records: FileSection{File: f, Pos: -1, Len: 1}}), ErrRecords},
		{"no file", 12, one(FetchPartition{Records: FileSection{Len: 10}}), ErrRecords},
		{"longer than int32", 12, one(FetchPartition{Records: FileSection{File: f, Len: 1 << 31}}), ErrRecords},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body Body
			body.i32(1) // stale content must not survive
			err := EncodeFetch(tt.version, tt.resp, &body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if body.Len() != 0 {
				t.Fatalf("body keeps %d bytes after an error", body.Len())
			}
		})
	}
}

func TestEncodeFetchAllocs(t *testing.T) {
	f, _ := recordsFile(t, 64<<10)
	r := benchFetch(f, 6, 8<<10)
	var body Body
	for _, v := range []int16{4, 11, 12, 17, 18} {
		if err := EncodeFetch(v, r, &body); err != nil { // grow the buffers once
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := EncodeFetch(v, r, &body); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("v%d: %v allocations per encode of a reused body, want 0", v, allocs)
		}
	}
}
