// Package bench holds `sluice bench produce|consume|e2e`: load generators
// in the spirit of Kafka's kafka-producer-perf-test and
// kafka-consumer-perf-test, against any Kafka-protocol cluster (--brokers).
// The workload engine is internal/bench; this package maps flags onto it
// and prints the result (text, or one JSON object with --json).
package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	engine "github.com/sluice-io/sluice/internal/bench"
	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `bench` command group.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("bench", "Measure a Kafka cluster: produce, consume and end-to-end load",
		`Measure throughput and latency of any Kafka-protocol cluster (--brokers).

  produce  send records as fast as possible (or at --rate): records/s, MB/s,
           send-to-ack latency percentiles
  consume  read a topic from its start: records/s, MB/s
  e2e      produce at a fixed --rate while consuming in the same process:
           send-to-consume latency, and a check that no acknowledged record
           is lost, duplicated or reordered (exit 1 if one is)

A progress line goes to stderr every second; the result goes to stdout
(--json: one JSON object). Latencies are in milliseconds; MB is 2^20 bytes.`,
		cmd(newProduce(cfg)), cmd(newConsume(cfg)), cmd(newE2E(cfg)))
}

// cmd drops the options a constructor returns for tests.
func cmd(c *cobra.Command, _ *options) *cobra.Command { return c }

func newProduce(cfg *clientcmd.Config) (*cobra.Command, *options) {
	o := &options{mode: engine.ModeProduce}
	c := &cobra.Command{
		Use:   "produce",
		Short: "Produce records as fast as possible (or at --rate) and report throughput and latency",
		Example: `  sluice bench produce --records 1000000 --record-size 1024
  sluice bench produce -p 6 --acks 1 --compression lz4 --producers 2
  sluice bench produce --duration 30s --rate 50000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, cfg) },
	}
	d := defaults{records: 1_000_000}
	o.addCommon(c.Flags(), d)
	o.addProduce(c.Flags(), d)
	o.addCluster(c)
	return c, o
}

func newConsume(cfg *clientcmd.Config) (*cobra.Command, *options) {
	o := &options{mode: engine.ModeConsume}
	c := &cobra.Command{
		Use:   "consume",
		Short: "Read a topic from its start and report throughput",
		Long: `Read --topic from its start offsets with one client (no consumer group).

Without --records or --duration it reads what the topic holds when it
starts; --records N reads N records (waiting for new ones if needed).
Fill the topic first, e.g. with 'sluice bench produce'.`,
		Example: `  sluice bench produce --records 1000000 && sluice bench consume
  sluice bench consume --topic orders --records 500000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, cfg) },
	}
	o.addCommon(c.Flags(), defaults{})
	return c, o
}

func newE2E(cfg *clientcmd.Config) (*cobra.Command, *options) {
	o := &options{mode: engine.ModeE2E}
	c := &cobra.Command{
		Use:   "e2e",
		Short: "Produce at a fixed rate while consuming: end-to-end latency and a loss/duplicate/order check",
		Long: `Produce at --rate records/s for --duration while one client consumes the
topic from its end offsets, in the same process. Each record carries a
sequence number per (producer, partition) and its send time, so the run
reports send-to-consume latency and checks that every acknowledged record
arrives exactly once and in order. It exits 1 when a record was lost,
duplicated, reordered or did not produce.`,
		Example: `  sluice bench e2e
  sluice bench e2e --rate 20000 --duration 20s --record-size 1024 -p 6`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, cfg) },
	}
	d := defaults{duration: 20 * time.Second, rate: 10_000}
	o.addCommon(c.Flags(), d)
	o.addProduce(c.Flags(), d)
	o.addCluster(c)
	return c, o
}

func (o *options) run(cmd *cobra.Command, cfg *clientcmd.Config) error {
	s, err := o.spec()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if o.cluster > 0 {
		lc, err := o.startCluster(ctx, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer lc.stop(cmd.ErrOrStderr())
		cfg = lc.cfg
		if o.killAfter > 0 {
			kctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go lc.killLeaderAfter(kctx, o.killAfter, s.Topic, cmd.ErrOrStderr())
		}
	}
	s.NewClient = func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
		return cfg.NewClient(ctx, append(opts, kgo.MetadataMinAge(o.metadataAge))...)
	}
	if o.progress {
		s.Progress = cmd.ErrOrStderr()
	}
	res, runErr := engine.Run(ctx, s)
	if res == nil {
		return runErr
	}
	var werr error
	if o.json {
		werr = clientcmd.WriteJSON(cmd.OutOrStdout(), res)
	} else {
		werr = printResult(cmd.OutOrStdout(), res)
	}
	if werr != nil {
		return fmt.Errorf("write result: %w", werr)
	}
	return runErr
}
