package wirefuzz

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/kafka/prescan/prescantest"
)

// api is one API the broker advertises.
type api struct{ key, min, max int16 }

// world is what requests are aimed at: the fuzzer's own names. Topic ids
// are learned from the broker (monitor); read with ids().
type world struct {
	apis   []api
	topics []string // fz-0..: created before the run
	groups []string
	txns   []string
	ids    func() [][16]byte
	setIDs func([][16]byte)
}

var configNames = []string{"retention.ms", "retention.bytes", "cleanup.policy", "max.message.bytes", "segment.bytes",
	"message.timestamp.type", "compression.type", "min.insync.replicas", "segment.ms", "unknown.key", ""}

var configValues = []string{"1000", "-1", "0", "compact", "delete", "compact,delete", "LogAppendTime", "zstd", "abc", "", "9223372036854775807"}

// gen builds one request frame (size prefix included) per call. Not safe
// for concurrent use: each worker has its own.
type gen struct {
	r    *rand.Rand
	w    *world
	corr int32
	fmt  *kmsg.RequestFormatter
	// lied is set when the last frame's size prefix does not match its
	// bytes: the connection must be closed after it.
	lied bool
	// what the last frame was, for the statistics
	key  int16
	kind string
	grew bool // an array was grown in this request: one per request keeps it small
}

func newGen(seed uint64, w *world) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), w: w, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("wirefuzz"))}
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// maxFrame bounds a generated frame: grown arrays inside grown arrays
// would otherwise encode into hundreds of megabytes.
const maxFrame = 2 << 20

// next returns the next frame to send.
func (g *gen) next() []byte {
	for {
		if f := g.try(); len(f) <= maxFrame {
			return f
		}
	}
}

func (g *gen) try() []byte {
	g.grew = false
	a := g.w.apis[g.r.IntN(len(g.w.apis))]
	v := a.min + int16(g.r.IntN(int(a.max-a.min)+1))
	req := prescantest.Filled(g.r, a.key, v)
	g.aim(reflect.ValueOf(req).Elem(), a.key, "")
	g.key, g.lied = a.key, false
	// Mutated fields are encoded by kmsg and mostly reach a handler;
	// mutated bytes, headers and sizes mostly end the connection.
	switch n := g.r.IntN(100); {
	case n < 15:
		g.kind = "valid"
		return g.frame(req)
	case n < 60:
		g.kind = "fields"
		for i := 1 + g.r.IntN(3); i > 0; i-- {
			g.mutateField(reflect.ValueOf(req).Elem())
		}
		return g.frame(req)
	case n < 88:
		g.kind = "bytes"
		return g.mutateBytes(g.frame(req))
	case n < 96:
		g.kind = "header"
		return g.mutateHeader(g.frame(req))
	default:
		g.kind = "size"
		return g.mutateSize(g.frame(req))
	}
}

func (g *gen) frame(req kmsg.Request) []byte {
	g.corr++
	return g.fmt.AppendRequest(nil, req, g.corr)
}

// aim walks a filled request and points names, ids and numbers at the
// fuzzer's own world, so that most requests reach the broker's logic
// rather than UNKNOWN_TOPIC_OR_PARTITION.
func (g *gen) aim(v reflect.Value, key int16, name string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			g.aim(v.Elem(), key, name)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(kmsg.Tags{}) {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				g.aim(v.Field(i), key, v.Type().Field(i).Name)
			}
		}
		if f := v.FieldByName("ResourceType"); f.IsValid() && f.CanSet() {
			if rn := v.FieldByName("ResourceName"); rn.IsValid() && rn.Kind() == reflect.String {
				switch g.r.IntN(8) {
				case 0:
					f.SetInt(4) // broker
					rn.SetString(g.pick([]string{"", "1", "2"}))
				default:
					f.SetInt(2) // topic
					rn.SetString(g.pick(g.w.topics))
				}
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if name == "Records" {
				v.SetBytes(g.records())
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			g.aim(v.Index(i), key, strings.TrimSuffix(name, "s"))
		}
	case reflect.String:
		if s, ok := g.name(key, name); ok {
			v.SetString(s)
		}
	case reflect.Array:
		if name == "TopicID" {
			if ids := g.w.ids(); len(ids) > 0 && g.r.IntN(8) != 0 {
				v.Set(reflect.ValueOf(ids[g.r.IntN(len(ids))]))
			}
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := g.number(key, name); ok {
			v.SetInt(n)
		}
	}
}

// name is the value of a string field called name, or false to keep it.
func (g *gen) name(key int16, name string) (string, bool) {
	switch name {
	case "Topic", "TopicName", "SubscribedTopicName":
		if key == 19 || key == 20 { // CreateTopics, DeleteTopics: a bounded set of names that come and go
			if g.r.IntN(4) == 0 {
				return g.pick(g.w.topics), true
			}
			return "fz-new-" + string(rune('a'+g.r.IntN(12))), true
		}
		return g.pick(g.w.topics), true
	case "Group", "Groups":
		return g.pick(g.w.groups), true
	case "TransactionalID", "TransactionalIDs", "TransactionID":
		return g.pick(g.w.txns), true
	case "CoordinatorKey", "CoordinatorKeys":
		return g.pick(append(append([]string{}, g.w.groups...), g.w.txns...)), true
	case "Name":
		return g.pick(configNames), true
	case "Value":
		return g.pick(configValues), true
	case "ProtocolType":
		return g.pick([]string{"consumer", "connect", ""}), true
	case "Protocol", "ServerAssignor":
		return g.pick([]string{"range", "roundrobin", "cooperative-sticky", "uniform", ""}), true
	case "MemberID", "InstanceID":
		return g.pick([]string{"", "fzm-" + string(rune('a'+g.r.IntN(4)))}), true
	}
	return "", false
}

// number is the value of an integer field called name, or false to keep
// the filler's.
func (g *gen) number(key int16, name string) (int64, bool) {
	r := g.r
	switch name {
	case "Partition", "Partitions":
		return int64(r.IntN(4)) - int64(r.IntN(2)), true
	case "NumPartitions":
		return int64(r.IntN(4)) - int64(r.IntN(2)), true
	case "ReplicationFactor":
		return []int64{-1, 1, 1, 1, 2, 0}[r.IntN(6)], true
	case "Count":
		return int64(1 + r.IntN(6)), true
	case "ProducerID":
		return int64(r.IntN(8)) - 1, true
	case "ProducerEpoch":
		return int64(r.IntN(4)) - 1, true
	case "Generation", "GenerationID", "MemberEpoch":
		return int64(r.IntN(5)) - 1, true
	case "TimeoutMillis", "MaxWaitMillis", "RebalanceTimeoutMillis":
		return int64(r.IntN(500)), true
	case "SessionTimeoutMillis":
		return int64(5000 + r.IntN(30000)), true
	case "TransactionTimeoutMillis":
		return int64(1000 + r.IntN(60000)), true
	case "MinBytes":
		return int64(r.IntN(100)), true
	case "MaxBytes", "PartitionMaxBytes":
		return int64(r.IntN(1 << 20)), true
	case "Acks":
		return []int64{-1, 0, 1, 2}[r.IntN(4)], true
	case "ReplicaID":
		return -1, true
	case "IsolationLevel":
		return int64(r.IntN(2)), true
	case "FetchOffset", "Offset", "LogStartOffset":
		return int64(r.IntN(200)) - 2, true
	case "Timestamp":
		return []int64{-1, -2, -3, -4, 0, time.Now().UnixMilli(), int64(r.IntN(1 << 40))}[r.IntN(7)], true
	case "CoordinatorType":
		return int64(r.IntN(2)), true
	}
	return 0, false
}

// records returns a valid record batch (any codec, sometimes idempotent),
// or now and then bytes that are not one.
func (g *gen) records() []byte {
	r := g.r
	if r.IntN(10) == 0 {
		b := make([]byte, r.IntN(100))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	info := batch.NewBatchInfo([]int{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd}[r.IntN(5)])
	if r.IntN(3) == 0 {
		info.ProducerID, info.ProducerEpoch, info.BaseSequence = int64(r.IntN(8)), int16(r.IntN(2)), int32(r.IntN(10))
		info.Transactional = r.IntN(3) == 0
	}
	b := batch.NewBuilder(info)
	now := time.Now().UnixMilli()
	for i := 1 + r.IntN(3); i > 0; i-- {
		rec := &batch.Record{Timestamp: now, Key: []byte("k"), Value: make([]byte, r.IntN(200))}
		if r.IntN(4) == 0 {
			rec.Key = nil
		}
		if r.IntN(4) == 0 {
			rec.Headers = []batch.RecordHeader{{Key: "h", Value: []byte("v")}}
		}
		if err := b.Add(rec); err != nil {
			return nil
		}
	}
	out, err := b.Build(nil)
	if err != nil {
		return nil
	}
	return out
}

// mutateField sets one field somewhere in v to an edge value.
func (g *gen) mutateField(v reflect.Value) {
	var leaves []reflect.Value
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 8 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			leaves = append(leaves, v)
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(kmsg.Tags{}) {
				leaves = append(leaves, v)
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).Name != "Version" && v.Field(i).CanSet() {
					walk(v.Field(i), depth+1)
				}
			}
		case reflect.Slice:
			leaves = append(leaves, v)
			for i := 0; i < v.Len() && i < 4; i++ {
				walk(v.Index(i), depth+1)
			}
		default:
			leaves = append(leaves, v)
		}
	}
	walk(v, 0)
	if len(leaves) == 0 {
		return
	}
	f := leaves[g.r.IntN(len(leaves))]
	r := g.r
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		edges := []int64{0, -1, 1, -2, math.MaxInt8, math.MinInt8, math.MaxInt16, math.MinInt16, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, int64(r.Uint64())}
		e := edges[r.IntN(len(edges))]
		if f.OverflowInt(e) {
			e = int64(int8(e))
		}
		f.SetInt(e)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(r.Uint64() >> (64 - 8*f.Type().Size()))
	case reflect.Float64:
		f.SetFloat([]float64{math.NaN(), math.Inf(1), -1, 0, 1e308}[r.IntN(5)])
	case reflect.String:
		f.SetString([]string{"", strings.Repeat("x", 1+r.IntN([]int{100, 4000, 40000}[r.IntN(3)])), "\x00", "é☃", "fz-0\x00", "-", "."}[r.IntN(7)])
	case reflect.Array:
		for i := 0; i < f.Len(); i++ {
			f.Index(i).SetUint(uint64(r.IntN(256)))
		}
	case reflect.Pointer:
		if f.IsNil() {
			p := reflect.New(f.Type().Elem())
			f.Set(p)
		} else {
			f.Set(reflect.Zero(f.Type()))
		}
	case reflect.Slice:
		switch {
		case f.Type().Elem().Kind() == reflect.Uint8:
			b := make([]byte, []int{0, 1, 61, 1000, 1 << 20}[r.IntN(5)])
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			f.SetBytes(b)
		case f.Len() > 0 && !g.grew && r.IntN(2) == 0: // grow: the same element many times
			g.grew = true
			n := []int{2, 10, 100, 2000}[r.IntN(4)]
			s := reflect.MakeSlice(f.Type(), 0, n)
			for i := 0; i < n; i++ {
				s = reflect.Append(s, f.Index(i%f.Len()))
			}
			f.Set(s)
		default:
			f.Set(reflect.Zero(f.Type()))
		}
	case reflect.Struct: // unknown tags
		t := f.Addr().Interface().(*kmsg.Tags)
		for i := r.IntN(20); i >= 0; i-- {
			t.Set(uint32(r.IntN(1<<16)), make([]byte, r.IntN(10)))
		}
	}
}

var interesting = []uint32{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 1000001, 10001}

// mutateBytes changes the encoded request after its size prefix, then
// fixes the prefix.
func (g *gen) mutateBytes(f []byte) []byte {
	r := g.r
	body := f[4:]
	for n := 1 + r.IntN(4); n > 0; n-- {
		if len(body) == 0 {
			break
		}
		i := r.IntN(len(body))
		switch r.IntN(8) {
		case 0:
			body[i] ^= 1 << r.IntN(8)
		case 1:
			body[i] = byte(r.IntN(256))
		case 2, 3: // an interesting value over a length-sized window
			v := interesting[r.IntN(len(interesting))]
			switch w := []int{1, 2, 4}[r.IntN(3)]; {
			case w == 1:
				body[i] = byte(v)
			case w == 2 && i+2 <= len(body):
				binary.BigEndian.PutUint16(body[i:], uint16(v))
			case w == 4 && i+4 <= len(body):
				binary.BigEndian.PutUint32(body[i:], v)
			}
		case 4: // a uvarint (compact lengths, tag counts)
			var tmp [5]byte
			n := binary.PutUvarint(tmp[:], uint64(interesting[r.IntN(len(interesting))]))
			body = append(body[:i], append(tmp[:n:n], body[i:]...)...)
		case 5:
			body = body[:i]
		case 6:
			j := min(len(body), i+1+r.IntN(16))
			body = append(body[:i], body[j:]...)
		case 7:
			junk := make([]byte, 1+r.IntN(32))
			for k := range junk {
				junk[k] = byte(r.IntN(256))
			}
			body = append(body[:i], append(junk, body[i:]...)...)
		}
	}
	return prefixed(body)
}

// mutateHeader changes the API key, version or correlation id, or lies
// about the client id's length.
func (g *gen) mutateHeader(f []byte) []byte {
	r := g.r
	body := f[4:]
	switch r.IntN(4) {
	case 0:
		binary.BigEndian.PutUint16(body[2:], uint16(int16(r.IntN(30))-3+g.w.maxVersion(g.key)))
	case 1:
		binary.BigEndian.PutUint16(body[0:], uint16(int16(r.IntN(120))-2))
	case 2:
		binary.BigEndian.PutUint32(body[4:], r.Uint32())
	case 3:
		binary.BigEndian.PutUint16(body[8:], uint16(interesting[r.IntN(len(interesting))]))
	}
	return prefixed(body)
}

// mutateSize makes the size prefix disagree with what follows.
func (g *gen) mutateSize(f []byte) []byte {
	r := g.r
	n := int64(len(f) - 4)
	switch r.IntN(4) {
	case 0:
		n -= int64(1 + r.IntN(int(min(n, 64))))
	case 1:
		n += int64(1 + r.IntN(64))
	case 2:
		n = int64(int32(interesting[r.IntN(len(interesting))]))
	case 3:
		n = -1
	}
	binary.BigEndian.PutUint32(f, uint32(n))
	g.lied = true
	return f
}

func prefixed(body []byte) []byte {
	f := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	return append(f, body...)
}

func (w *world) maxVersion(key int16) int16 {
	for _, a := range w.apis {
		if a.key == key {
			return a.max
		}
	}
	return 0
}
