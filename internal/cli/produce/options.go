package produce

import (
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// options are the flags of `sluice produce`.
type options struct {
	keyDelim    string
	format      string
	headers     []string
	partition   int32
	acks        string
	compression string
	linger      time.Duration
	verbose     bool
}

// plan is what the flags resolve to once validated.
type plan struct {
	format  *Format
	headers []kgo.RecordHeader // added to every record; shared, never mutated
	opts    []kgo.Opt          // producer options for the client
}

// resolve validates the flags; every mistake is a UsageError naming the flag.
func (o *options) resolve() (*plan, error) {
	p := &plan{}
	var err error
	if p.format, err = o.inputFormat(); err != nil {
		return nil, err
	}
	if p.headers, err = parseHeaderFlags(o.headers); err != nil {
		return nil, err
	}
	acks, err := parseAcks(o.acks)
	if err != nil {
		return nil, err
	}
	codec, err := parseCompression(o.compression)
	if err != nil {
		return nil, err
	}
	if o.linger < 0 {
		return nil, clientcmd.Usagef("--linger %v: want a duration >= 0 (e.g. 10ms)", o.linger)
	}
	if o.partition < -1 {
		return nil, clientcmd.Usagef("--partition %d: want a partition number >= 0 (or -1: let the partitioner pick)", o.partition)
	}
	p.opts = append(acks, kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(o.linger))
	if o.partition >= 0 {
		p.opts = append(p.opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return p, nil
}

// inputFormat is --format, or the format --key-delim stands for.
func (o *options) inputFormat() (*Format, error) {
	switch {
	case o.format != "" && o.keyDelim != "":
		return nil, clientcmd.Usagef("--format and --key-delim both given: use one (--key-delim D is --format '%%k D%%v\\n')")
	case o.keyDelim != "":
		d, err := clientcmd.Unescape("--key-delim", o.keyDelim)
		if err != nil {
			return nil, err
		}
		return ParseFormat("--key-delim", "%k"+literalFormat(d)+"%v\n")
	case o.format != "":
		return ParseFormat("--format", o.format)
	}
	return ParseFormat("--format", "%v\n")
}

// literalFormat quotes s so that ParseFormat reads it as literal text.
func literalFormat(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", "%%").Replace(s)
}

func parseHeaderFlags(kvs []string) ([]kgo.RecordHeader, error) {
	var hs []kgo.RecordHeader
	for _, kv := range kvs {
		k, v, err := clientcmd.ParseKeyValue("--header", kv)
		if err != nil {
			return nil, err
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return slices.Clip(hs), nil
}

// parseAcks maps --acks to producer options. Idempotent writes need
// acks=all (KIP-679), so a weaker level turns them off.
func parseAcks(s string) ([]kgo.Opt, error) {
	switch s {
	case "all", "-1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	case "1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return nil, clientcmd.Usagef("--acks %q: want 0, 1 or all", s)
}

var codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

func parseCompression(s string) (kgo.CompressionCodec, error) {
	if c, ok := codecs[s]; ok {
		return c, nil
	}
	return kgo.CompressionCodec{}, clientcmd.Usagef("--compression %q: want none, gzip, snappy, lz4 or zstd", s)
}
