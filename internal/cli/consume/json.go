package consume

import (
	"encoding/json"
	"io"

	"github.com/twmb/franz-go/pkg/kgo"
)

// jsonRecord is the --json form of a record, one object per line. Key and
// value are strings (null when null); bytes that are not UTF-8 become
// U+FFFD, so use --format for binary data.
type jsonRecord struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"`
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   []jsonHeader `json:"headers"`
}

type jsonHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// jsonWriter writes records as JSON lines. It is not safe for concurrent
// use.
type jsonWriter struct {
	enc *json.Encoder
	rec jsonRecord // reused between records
}

func newJSONWriter(w io.Writer) *jsonWriter {
	return &jsonWriter{enc: json.NewEncoder(w), rec: jsonRecord{Headers: []jsonHeader{}}}
}

func (j *jsonWriter) write(r *kgo.Record) error {
	j.rec = jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Key:       optString(r.Key),
		Value:     optString(r.Value),
		Headers:   j.rec.Headers[:0],
	}
	for _, h := range r.Headers {
		j.rec.Headers = append(j.rec.Headers, jsonHeader{Key: h.Key, Value: string(h.Value)})
	}
	return j.enc.Encode(&j.rec)
}

func optString(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
