package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// serveKfake is the child-process mode (-serve-kfake): run a one-broker
// kfake cluster on port until SIGTERM/SIGINT, so that its CPU time is its
// own process's. dataDir enables kfake's disk persistence (page cache;
// fsync per batch with sync); blackhole acks produce without storing, and
// synthetic > 0 answers every fetch from one canned ~1 MiB batch of values
// of that size, held in memory (kfake.SyntheticFetch): what a client alone
// can read.
func serveKfake(port int, dataDir string, blackhole, sync bool, synthetic int) error {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1)}
	switch {
	case blackhole:
		opts = append(opts, kfake.BlackholeProduce())
		if synthetic > 0 {
			opts = append(opts, kfake.SyntheticFetch(kfake.SyntheticBatch{RecordBytes: synthetic}))
		}
	case dataDir != "":
		opts = append(opts, kfake.DataDir(dataDir))
		if sync {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start kfake: %w", err)
	}
	<-sigs
	c.Close()
	return nil
}
