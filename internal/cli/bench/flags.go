package bench

import (
	"time"

	"github.com/spf13/pflag"

	engine "github.com/sluice-io/sluice/internal/bench"
	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// options are the flags of the bench commands; each command registers
// the ones it uses.
type options struct {
	mode          engine.Mode
	topic         string
	partitions    int32
	records       int64
	duration      time.Duration
	recordSize    int
	producers     int
	rate          float64
	acks          string
	idempotent    bool
	compression   string
	linger        time.Duration
	batchMaxBytes int32
	drainTimeout  time.Duration
	metadataAge   time.Duration
	cluster       int           // --cluster: nodes of a local cluster to start, 0 for none
	killAfter     time.Duration // --kill-after
	clusterSet    []string      // --cluster-set key=value
	json          bool
	progress      bool

	flags *pflag.FlagSet // to tell the flags the user set from defaults
}

// defaults are the per-command defaults of --records and --duration.
type defaults struct {
	records  int64
	duration time.Duration
	rate     float64
}

func (o *options) addCommon(f *pflag.FlagSet, d defaults) {
	o.flags = f
	f.StringVarP(&o.topic, "topic", "t", "sluice-bench", "topic to use")
	f.Int64VarP(&o.records, "records", "n", d.records, "number of records (with --duration: stop at whichever comes first)")
	f.DurationVarP(&o.duration, "duration", "d", d.duration, "run for this long (an alternative to --records, e.g. 30s)")
	f.DurationVar(&o.drainTimeout, "drain-timeout", 10*time.Second, "stop consuming after this long without a new record")
	f.DurationVar(&o.metadataAge, "metadata-min-age", 5*time.Second, "least time between the clients' metadata refreshes (franz-go's MetadataMinAge; Java clients refresh after retry.backoff.ms, 100ms, when a leader is lost)")
	f.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	f.BoolVar(&o.progress, "progress", true, "print a progress line on stderr every second")
}

func (o *options) addProduce(f *pflag.FlagSet, d defaults) {
	f.Int32VarP(&o.partitions, "partitions", "p", 1, "partitions of the topic when it is created (an existing topic keeps its own)")
	f.IntVarP(&o.recordSize, "record-size", "s", 1024, "record value size in bytes (>= 32, the benchmark header)")
	f.IntVar(&o.producers, "producers", 1, "parallel producing clients (records and rate are split over them)")
	f.Float64Var(&o.rate, "rate", d.rate, "records/s limit over all producers (0: unlimited)")
	f.StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: 0, 1 or all")
	f.BoolVar(&o.idempotent, "idempotent", false, "idempotent producer (default: on with --acks all, as Kafka and franz-go do; needs acks=all)")
	f.StringVarP(&o.compression, "compression", "z", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.DurationVar(&o.linger, "linger", 5*time.Millisecond, "how long a batch waits for more records (Kafka 4's linger.ms default)")
	f.Int32Var(&o.batchMaxBytes, "batch-max-bytes", 1000012, "largest record batch in bytes (franz-go's default, Kafka's max.message.bytes)")
}

// spec validates the flags into an engine spec (without NewClient and
// Progress); every mistake is a UsageError naming the flag.
func (o *options) spec() (engine.Spec, error) {
	s := engine.Spec{Mode: o.mode, Topic: o.topic, Records: o.records, Duration: o.duration,
		DrainTimeout: o.drainTimeout, Partitions: o.partitions, RecordSize: o.recordSize,
		Producers: o.producers, Rate: o.rate, Compression: o.compression, Linger: o.linger,
		BatchMaxBytes: o.batchMaxBytes}
	// --duration alone replaces the default --records, and the reverse.
	if o.changed("duration") && !o.changed("records") {
		s.Records = 0
	}
	if o.changed("records") && !o.changed("duration") {
		s.Duration = 0
	}
	if err := o.checkCluster(); err != nil {
		return s, err
	}
	if err := o.checkCommon(s); err != nil {
		return s, err
	}
	if o.mode == engine.ModeConsume {
		return s, nil
	}
	return s, o.checkProduce(&s)
}

func (o *options) changed(name string) bool {
	f := o.flags.Lookup(name)
	return f != nil && f.Changed
}

func (o *options) checkCommon(s engine.Spec) error {
	switch {
	case s.Topic == "":
		return clientcmd.Usagef("--topic is empty")
	case s.Records < 0:
		return clientcmd.Usagef("--records %d: want >= 0", s.Records)
	case s.Duration < 0:
		return clientcmd.Usagef("--duration %v: want >= 0", s.Duration)
	case o.mode != engine.ModeConsume && s.Records == 0 && s.Duration == 0:
		return clientcmd.Usagef("--records 0 and no --duration: the run would never end (give one of them)")
	case s.DrainTimeout <= 0:
		return clientcmd.Usagef("--drain-timeout %v: want > 0", s.DrainTimeout)
	case o.metadataAge <= 0:
		return clientcmd.Usagef("--metadata-min-age %v: want > 0", o.metadataAge)
	}
	return nil
}

func (o *options) checkProduce(s *engine.Spec) error {
	acks, err := engine.ParseAcks(o.acks)
	if err != nil {
		return clientcmd.Usagef("--acks %q: want 0, 1 or all", o.acks)
	}
	s.Acks = acks
	s.Idempotent = acks == engine.AcksAll && (o.idempotent || !o.changed("idempotent"))
	switch {
	case o.idempotent && acks != engine.AcksAll:
		return clientcmd.Usagef("--idempotent needs --acks all (KIP-679), got --acks %s", o.acks)
	case s.Partitions < 1:
		return clientcmd.Usagef("--partitions %d: want >= 1", s.Partitions)
	case s.RecordSize < engine.HeaderSize:
		return clientcmd.Usagef("--record-size %d: want >= %d (each record carries a %d-byte benchmark header)",
			s.RecordSize, engine.HeaderSize, engine.HeaderSize)
	case s.Producers < 1:
		return clientcmd.Usagef("--producers %d: want >= 1", s.Producers)
	case s.Rate < 0:
		return clientcmd.Usagef("--rate %v: want >= 0 (0: unlimited)", s.Rate)
	case s.Linger < 0:
		return clientcmd.Usagef("--linger %v: want >= 0", s.Linger)
	case s.BatchMaxBytes < 512:
		return clientcmd.Usagef("--batch-max-bytes %d: want >= 512", s.BatchMaxBytes)
	}
	if _, ok := engine.Codecs[s.Compression]; !ok {
		return clientcmd.Usagef("--compression %q: want none, gzip, snappy, lz4 or zstd", s.Compression)
	}
	return nil
}
