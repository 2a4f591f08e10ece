// Command txn measures transactional production against a running
// Kafka-protocol broker: one franz-go transactional producer writes
// transactions of -per records (default 100) of -size bytes to a topic of
// -partitions partitions and commits each, and the tool prints records/s,
// MB/s and transactions/s. For comparison it runs the same records with
// acks=all idempotent (no transactions) and with acks=1.
//
//	go run ./bench/txn -brokers 127.0.0.1:9092 -records 200000
//
// It is a benchmark, not a test: it prints figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap server")
	records := flag.Int("records", 200_000, "records per run")
	per := flag.Int("per", 100, "records per transaction")
	size := flag.Int("size", 1024, "record value size")
	partitions := flag.Int("partitions", 6, "partitions")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, mode := range []string{"acks=1", "acks=all idempotent", "transactions"} {
		d, err := run(ctx, *brokers, mode, *records, *per, *size, *partitions)
		if err != nil {
			fmt.Fprintln(os.Stderr, "txn:", mode, err)
			os.Exit(1)
		}
		rps := float64(*records) / d.Seconds()
		fmt.Printf("%-20s %8.0f records/s %7.1f MB/s", mode, rps, rps*float64(*size)/(1<<20))
		if mode == "transactions" {
			fmt.Printf(" %7.0f txn/s (%d records each)", rps/float64(*per), *per)
		}
		fmt.Println()
	}
}

func run(ctx context.Context, brokers, mode string, records, per, size, partitions int) (time.Duration, error) {
	topic := fmt.Sprintf("txnbench-%d", time.Now().UnixNano())
	opts := []kgo.Opt{kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression())}
	switch mode {
	case "acks=1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "transactions":
		opts = append(opts, kgo.TransactionalID(topic))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), 1, nil, topic); err != nil {
		return 0, err
	}
	val := make([]byte, size)
	var failed error
	done := func(_ *kgo.Record, err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	start := time.Now()
	for sent := 0; sent < records; {
		if mode == "transactions" {
			if err := cl.BeginTransaction(); err != nil {
				return 0, err
			}
		}
		for i := 0; i < per && sent < records; i, sent = i+1, sent+1 {
			cl.Produce(ctx, &kgo.Record{Value: val}, done)
		}
		if mode == "transactions" {
			if err := cl.Flush(ctx); err != nil { // kgo: flush before ending
				return 0, err
			}
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				return 0, err
			}
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), failed
}
