package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// settle is how long a broker is left alone before its memory is read.
const settle = 2 * time.Second

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// started starts a fresh broker; the caller stops it.
func started(ctx context.Context, e *env) (*broker, error) {
	b, err := e.newBroker()
	if err != nil {
		return nil, err
	}
	return b, b.start(ctx, e.bin)
}

func measureCold(ctx context.Context, e *env, o *options) ([]row, error) {
	var times []time.Duration
	for range max(o.coldRuns, 1) {
		b, err := started(ctx, e)
		if err != nil {
			return nil, err
		}
		times = append(times, b.ready)
		if err := b.stop(); err != nil {
			return nil, err
		}
	}
	slices.Sort(times)
	return []row{{"exec to first ApiVersions answer (median)", fmt.Sprintf("%s [%s..%s] over %d runs",
		ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), len(times))}}, nil
}

func measureIdle(ctx context.Context, e *env, _ *options) ([]row, error) {
	b, err := started(ctx, e)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	if err := sleepCtx(ctx, settle); err != nil {
		return nil, err
	}
	rss, err := b.mem("VmRSS")
	if err != nil {
		return nil, err
	}
	return []row{{fmt.Sprintf("VmRSS %v after start, nothing created", settle), mib(rss)}}, nil
}

func admin(addr string) (*kadm.Client, *kgo.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestTimeoutOverhead(time.Minute))
	if err != nil {
		return nil, nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32((10 * time.Minute).Milliseconds())) // creating thousands of partitions
	return adm, cl, nil
}

func measureConns(ctx context.Context, e *env, o *options) ([]row, error) {
	b, err := started(ctx, e)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	if err := sleepCtx(ctx, settle); err != nil {
		return nil, err
	}
	before, err := b.mem("VmRSS")
	if err != nil {
		return nil, err
	}
	conns := make([]net.Conn, o.conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	const dialers = 8
	for w := range dialers {
		wg.Go(func() {
			for i := w; i < len(conns) && ctx.Err() == nil; i += dialers {
				c, err := net.DialTimeout("tcp", b.addr, 10*time.Second)
				if err == nil {
					conns[i] = c
					err = apiVersionsOn(c)
				}
				if err != nil {
					mu.Lock()
					first = cmpOr(first, fmt.Errorf("connection %d: %w", i, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := sleepCtx(ctx, settle); err != nil {
		return nil, err
	}
	rss, err := b.mem("VmRSS")
	if err != nil {
		return nil, err
	}
	return []row{
		{"VmRSS before", mib(before)},
		{fmt.Sprintf("VmRSS with %d idle connections", o.conns), mib(rss)},
		{"per connection", fmt.Sprintf("%.1f KiB", float64(rss-before)/float64(o.conns))},
	}, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// freeBytes is the space available under dir.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func measureRestart(ctx context.Context, e *env, o *options) ([]row, error) {
	var rows []row
	want := uint64(o.restartGiB * (1 << 30))
	if free, err := freeBytes(e.work); err == nil && free < want*5/2 {
		scaled := float64(free) * 2 / 5 / (1 << 30)
		rows = append(rows, row{"NOTE", fmt.Sprintf("%.1f GiB free: writing %.1f GiB instead of %.1f", float64(free)/(1<<30), scaled, o.restartGiB)})
		want = uint64(scaled * (1 << 30))
	}
	b, err := started(ctx, e)
	if err != nil {
		return rows, err
	}
	defer b.stop()
	const recordSize = 16 << 10
	records := want / recordSize
	t0 := time.Now()
	prod := exec.CommandContext(ctx, e.bin, "bench", "produce", "-b", b.addr, "-t", "scale-restart",
		"-p", fmt.Sprint(o.restartPartitions), "-s", fmt.Sprint(recordSize), "-n", fmt.Sprint(records),
		"--acks", "1", "--progress=false")
	prod.Stdout, prod.Stderr = os.Stderr, os.Stderr
	if err := prod.Run(); err != nil {
		return rows, fmt.Errorf("produce: %w", err)
	}
	rows = append(rows, row{"written", fmt.Sprintf("%.2f GiB in %d partitions, %s", float64(records*recordSize)/(1<<30), o.restartPartitions, time.Since(t0).Round(time.Millisecond))})
	ends, err := endOffsets(ctx, b.addr)
	if err != nil {
		return rows, err
	}
	b.kill()
	if o.restartProfile != "" {
		b.extra = []string{"--cpuprofile", o.restartProfile}
	}
	if err := b.start(ctx, e.bin); err != nil {
		return rows, fmt.Errorf("restart: %w", err)
	}
	t1 := time.Now()
	rows = append(rows, row{"kill -9, restart: exec to first ApiVersions", ms(b.ready)})
	for {
		got, err := endOffsets(ctx, b.addr)
		if err == nil && got.equal(ends) {
			break
		}
		if ctx.Err() != nil {
			return rows, fmt.Errorf("partitions never served their end offsets again: %v", err)
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return rows, err
		}
	}
	rows = append(rows, row{"kill -9, restart: exec to every end offset served", ms(b.ready + time.Since(t1))})
	return rows, nil
}

// offsets are a topic's end offsets by partition.
type offsets map[int32]int64

func (a offsets) equal(b offsets) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if b[p] != o {
			return false
		}
	}
	return true
}

func endOffsets(ctx context.Context, addr string) (offsets, error) {
	adm, cl, err := admin(addr)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	listed, err := adm.ListEndOffsets(ctx, "scale-restart")
	if err != nil {
		return nil, err
	}
	if err := listed.Error(); err != nil {
		return nil, err
	}
	out := offsets{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}
