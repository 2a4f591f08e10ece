package batch

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// These tests cross-check this package with franz-go, which real clients
// run: batches franz-go encodes must validate and iterate to the same
// records, and batches the Builder encodes must decode in franz-go.

var kgoCodecs = map[int]kgo.CompressionCodec{
	CodecGzip:   kgo.GzipCompression(),
	CodecSnappy: kgo.SnappyCompression(),
	CodecLZ4:    kgo.Lz4Compression(),
	CodecZstd:   kgo.ZstdCompression(),
}

// kmsgBatch encodes recs the way a franz-go producer does.
func kmsgBatch(t *testing.T, codec int, base int64, recs []Record) []byte {
	t.Helper()
	var payload []byte
	first, maxTS := recs[0].Timestamp, recs[0].Timestamp
	for i, r := range recs {
		kr := kmsg.Record{TimestampDelta64: r.Timestamp - first, OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		body := kr.AppendTo(nil)[1:] // Length 0 encodes as one byte
		payload = append(binary.AppendVarint(payload, int64(len(body))), body...)
		maxTS = max(maxTS, r.Timestamp)
	}
	if codec != CodecNone {
		c, err := kgo.DefaultCompressor(kgoCodecs[codec])
		if err != nil {
			t.Fatal(err)
		}
		out, used := c.Compress(new(bytes.Buffer), payload)
		if int(used) != codec {
			t.Fatalf("kgo compressed with codec %d, want %d", used, codec)
		}
		payload = append([]byte{}, out...)
	}
	rb := kmsg.RecordBatch{
		FirstOffset: base, Length: int32(HeaderSize - LogOverhead + len(payload)), PartitionLeaderEpoch: -1,
		Magic: 2, Attributes: int16(codec), LastOffsetDelta: int32(len(recs) - 1),
		FirstTimestamp: first, MaxTimestamp: maxTS, ProducerID: 5, ProducerEpoch: 1, FirstSequence: 0,
		NumRecords: int32(len(recs)), Records: payload,
	}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func TestKmsgBatchesValidate(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codecName(codec), func(t *testing.T) {
			recs := sampleRecords(25, 40)
			for i := range recs {
				recs[i].Offset = 300 + int64(i)
			}
			b := kmsgBatch(t, codec, 300, recs)
			h, err := Validate(b)
			if err != nil {
				t.Fatal(err)
			}
			if h.ProducerID() != 5 || h.RecordCount() != 25 || h.Codec() != codec {
				t.Fatalf("header pid %d count %d codec %d", h.ProducerID(), h.RecordCount(), h.Codec())
			}
			if err := ValidateRecords(b, 1<<20); err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(recs, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBuilderBatchesDecodeInKmsg(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codecName(codec), func(t *testing.T) {
			recs := sampleRecords(25, 40)
			info := NewBatchInfo(codec)
			info.BaseOffset = 9
			b := build(t, info, recs)
			var rb kmsg.RecordBatch
			if err := rb.ReadFrom(b); err != nil {
				t.Fatal(err)
			}
			if uint32(rb.CRC) != crc32.Checksum(b[offAttributes:], crc32.MakeTable(crc32.Castagnoli)) {
				t.Fatal("crc mismatch")
			}
			if int(rb.Length) != len(b)-LogOverhead || rb.NumRecords != 25 || rb.LastOffsetDelta != 24 {
				t.Fatalf("length %d records %d last delta %d", rb.Length, rb.NumRecords, rb.LastOffsetDelta)
			}
			payload, err := kgo.DefaultDecompressor().Decompress(rb.Records, kgo.CompressionCodecType(codec))
			if err != nil {
				t.Fatal(err)
			}
			var got []Record
			for len(payload) > 0 {
				var kr kmsg.Record
				if err := kr.ReadFrom(payload); err != nil {
					t.Fatal(err)
				}
				r := Record{Offset: rb.FirstOffset + int64(kr.OffsetDelta), Timestamp: rb.FirstTimestamp + kr.TimestampDelta64,
					Key: kr.Key, Value: kr.Value}
				for _, h := range kr.Headers {
					r.Headers = append(r.Headers, RecordHeader{Key: h.Key, Value: h.Value})
				}
				got = append(got, r)
				payload = payload[sizeVarint(kr.Length)+int(kr.Length):]
			}
			for i := range recs {
				recs[i].Offset = 9 + int64(i)
			}
			if err := sameRecords(recs, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}
