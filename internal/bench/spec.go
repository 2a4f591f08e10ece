package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Mode is what a benchmark measures.
type Mode string

// The benchmark modes.
const (
	// ModeProduce measures produce throughput and send-to-ack latency.
	ModeProduce Mode = "produce"
	// ModeConsume measures consume throughput from the start of a topic.
	ModeConsume Mode = "consume"
	// ModeE2E produces and consumes at once, measures send-to-consume
	// latency and checks that nothing is lost, duplicated or reordered.
	ModeE2E Mode = "e2e"
)

// Acks is the produce acknowledgement level (Kafka's acks).
type Acks int16

// The acks levels, with Kafka's numbers.
const (
	AcksNone   Acks = 0
	AcksLeader Acks = 1
	AcksAll    Acks = -1
)

func (a Acks) String() string {
	switch a {
	case AcksNone:
		return "0"
	case AcksLeader:
		return "1"
	}
	return "all"
}

// ParseAcks reads "0", "1", "all" or "-1".
func ParseAcks(s string) (Acks, error) {
	switch s {
	case "0":
		return AcksNone, nil
	case "1":
		return AcksLeader, nil
	case "all", "-1":
		return AcksAll, nil
	}
	return 0, fmt.Errorf("acks %q: want 0, 1 or all", s)
}

func (a Acks) opt() kgo.Opt {
	switch a {
	case AcksNone:
		return kgo.RequiredAcks(kgo.NoAck())
	case AcksLeader:
		return kgo.RequiredAcks(kgo.LeaderAck())
	}
	return kgo.RequiredAcks(kgo.AllISRAcks())
}

// Codecs are the compression names Spec.Compression accepts.
var Codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// Spec is one benchmark run. The zero value of an optional field means
// "the default" as documented on it. Run takes a copy, so a Spec may be
// reused; NewClient must be safe for concurrent use.
type Spec struct {
	Mode  Mode
	Topic string
	// Partitions is the partition count of the topic when the benchmark
	// creates it (produce, e2e); an existing topic keeps its own.
	Partitions int32
	// Records stops the run after this many records (produce: sent;
	// consume: read; e2e: sent). Duration stops it after this long. With
	// both, the first reached wins; consume with neither reads what the
	// topic holds when it starts.
	Records  int64
	Duration time.Duration
	// RecordSize is the value size in bytes, >= HeaderSize.
	RecordSize int
	// Producers is the number of producing clients (default 1); records
	// and rate are split evenly over them.
	Producers int
	// Rate limits sending to this many records/s in total; 0 is no limit.
	Rate          float64
	Acks          Acks
	Idempotent    bool   // needs AcksAll
	Compression   string // a key of Codecs; "" is none
	Linger        time.Duration
	BatchMaxBytes int32 // 0: the client's default
	// DrainTimeout ends a consume (or the consuming end of e2e) after this
	// long without a new record (default 10s).
	DrainTimeout time.Duration
	// NewClient returns a connected client with opts added; required.
	NewClient func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error)
	// Progress, when set, gets a progress line once per ProgressEvery
	// (default 1s).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// check validates s and fills defaults.
func (s *Spec) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Mode != ModeProduce && s.Mode != ModeConsume && s.Mode != ModeE2E:
		return bad("mode %q: want produce, consume or e2e", s.Mode)
	case strings.TrimSpace(s.Topic) == "":
		return bad("empty topic")
	case s.NewClient == nil:
		return bad("no NewClient")
	case s.Records < 0 || s.Duration < 0 || s.Rate < 0 || s.Linger < 0 || s.BatchMaxBytes < 0:
		return bad("records, duration, rate, linger and batch max bytes must be >= 0")
	case s.Mode != ModeConsume && s.Records == 0 && s.Duration == 0:
		return bad("%s needs records or a duration", s.Mode)
	case s.Mode != ModeConsume && s.RecordSize < HeaderSize:
		return bad("record size %d: want >= %d (the benchmark header)", s.RecordSize, HeaderSize)
	case s.Mode != ModeConsume && s.Partitions < 1:
		return bad("partitions %d: want >= 1", s.Partitions)
	case s.Idempotent && s.Acks != AcksAll:
		return bad("idempotence needs acks=all (KIP-679), got acks=%v", s.Acks)
	}
	if s.Compression == "" {
		s.Compression = "none"
	}
	if _, ok := Codecs[s.Compression]; !ok {
		return bad("compression %q: want none, gzip, snappy, lz4 or zstd", s.Compression)
	}
	s.Producers = max(s.Producers, 1)
	if s.DrainTimeout == 0 {
		s.DrainTimeout = 10 * time.Second
	}
	if s.ProgressEvery == 0 {
		s.ProgressEvery = time.Second
	}
	return nil
}
