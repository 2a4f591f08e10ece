// Command rebalance measures consumer-group rebalance time against a
// running Kafka-protocol broker: M members form a group over a topic of P
// partitions, then one more member joins, and the time until every
// partition is owned again (and the newcomer owns some) is reported. It
// runs the classic protocol (client-side cooperative-sticky balancer) or
// the KIP-848 consumer protocol (server-side uniform assignor).
//
//	go run ./bench/rebalance -brokers 127.0.0.1:9092 -members 50 -partitions 600 -protocol classic
//	go run ./bench/rebalance -brokers 127.0.0.1:9092 -members 50 -partitions 600 -protocol consumer
//
// It is a benchmark, not a test: it prints figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// owners tracks which member owns which partition, from the callbacks.
type owners struct {
	mu    sync.Mutex
	owned map[int32]int // partition -> member
	count map[int]int   // member -> partitions
}

func (o *owners) assign(m int, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		o.owned[p] = m
		o.count[m]++
	}
}

func (o *owners) revoke(m int, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		if o.owned[p] == m {
			delete(o.owned, p)
			o.count[m]--
		}
	}
}

// settled reports whether all partitions are owned and every member owns one.
func (o *owners) settled(partitions, members int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.owned) != partitions {
		return false
	}
	for m := 0; m < members; m++ {
		if o.count[m] == 0 {
			return false
		}
	}
	return true
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap server")
	members := flag.Int("members", 50, "members after the join (the group forms with one fewer)")
	partitions := flag.Int("partitions", 600, "partitions of the topic")
	protocol := flag.String("protocol", "classic", "classic or consumer (KIP-848)")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *brokers, *members, *partitions, *protocol); err != nil {
		fmt.Fprintln(os.Stderr, "rebalance:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, brokers string, members, partitions int, protocol string) error {
	topic := fmt.Sprintf("rebalance-%d", time.Now().UnixNano())
	group := topic + "-g"
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return err
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, int32(partitions), 1, nil, topic); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	o := &owners{owned: map[int32]int{}, count: map[int]int{}}
	var clients []*kgo.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	start := func(m int) error {
		opts := []kgo.Opt{kgo.SeedBrokers(brokers), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { o.assign(m, a[topic]) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) { o.revoke(m, r[topic]) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, r map[string][]int32) { o.revoke(m, r[topic]) })}
		if protocol == "consumer" {
			opts = append(opts, kgo.ServerSideBalancer())
		} else {
			opts = append(opts, kgo.Balancers(kgo.CooperativeStickyBalancer()))
		}
		c, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		go func() {
			for ctx.Err() == nil {
				if c.PollFetches(ctx).IsClientClosed() {
					return
				}
			}
		}()
		return nil
	}
	t0 := time.Now()
	for m := 0; m < members-1; m++ {
		if err := start(m); err != nil {
			return err
		}
	}
	if err := waitSettled(ctx, o, partitions, members-1); err != nil {
		return fmt.Errorf("forming: %w", err)
	}
	formed := time.Since(t0)
	t1 := time.Now()
	if err := start(members - 1); err != nil {
		return err
	}
	if err := waitSettled(ctx, o, partitions, members); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	fmt.Printf("protocol=%s members=%d partitions=%d form(%d members)=%v join(+1)=%v\n",
		protocol, members, partitions, members-1, formed.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	return nil
}

func waitSettled(ctx context.Context, o *owners, partitions, members int) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !o.settled(partitions, members) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
