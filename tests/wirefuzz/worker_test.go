package wirefuzz

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// stats counts what the workers did. Safe for concurrent use.
type stats struct {
	sent, dropped, closed, timeouts, answers atomic.Int64
	mu                                       sync.Mutex
	byKey                                    map[int16]int64
	byKind                                   map[string]int64
}

func (s *stats) count(key int16, kind string) {
	s.sent.Add(1)
	s.mu.Lock()
	s.byKey[key]++
	s.byKind[kind]++
	s.mu.Unlock()
}

// ring keeps the last frames a worker sent, for a reproducer.
type ring struct {
	frames [][]byte
	next   int
}

func (r *ring) add(f []byte) {
	if len(r.frames) < cap(r.frames) {
		r.frames = append(r.frames, f)
		return
	}
	r.frames[r.next] = f
	r.next = (r.next + 1) % len(r.frames)
}

// ordered returns the frames oldest first.
func (r *ring) ordered() [][]byte {
	return append(append([][]byte{}, r.frames[r.next:]...), r.frames[:r.next]...)
}

// worker sends frames from g over one connection at a time until ctx
// ends, reading and dropping the answers on the side.
type worker struct {
	addr  string
	g     *gen
	guard *guard
	st    *stats
	last  ring
}

func (w *worker) run(ctx context.Context) {
	var c net.Conn
	var dead chan struct{}
	closeConn := func() {
		if c != nil {
			c.Close()
			<-dead
			c = nil
		}
	}
	defer closeConn()
	for ctx.Err() == nil {
		if c != nil {
			select {
			case <-dead: // the broker closed it
				w.st.closed.Add(1)
				c.Close()
				c = nil
			default:
			}
		}
		if c == nil {
			var err error
			if c, err = net.DialTimeout("tcp", w.addr, 2*time.Second); err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond): // the broker is busy or gone: the checks tell
				}
				continue
			}
			dead = make(chan struct{})
			go w.drain(c, dead)
		}
		// One to four frames back to back, as one write; one that likely
		// ends the connection (mutated bytes, header or size) ends it.
		var out []byte
		lied, last := false, false
		for n := 1 + w.g.r.IntN(4); n > 0 && !last; n-- {
			f := w.g.next()
			if !w.guard.allow(append(out[:len(out):len(out)], f...)) {
				w.st.dropped.Add(1)
				continue
			}
			out = append(out, f...)
			w.last.add(f)
			w.st.count(w.g.key, w.g.kind)
			lied = w.g.lied
			last = w.g.kind != "valid" && w.g.kind != "fields"
		}
		if len(out) == 0 {
			continue
		}
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(out); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				w.st.timeouts.Add(1) // the broker stopped reading: backpressure
			}
			closeConn()
			continue
		}
		switch {
		case lied: // what follows a lying size prefix is not ours to predict
			time.Sleep(time.Duration(w.g.r.IntN(50)) * time.Millisecond)
			closeConn()
		case last: // a malformed frame: let the broker close before more frames go to waste
			select {
			case <-dead:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// drain reads answers (size prefix, then the bytes) and drops them,
// until the connection ends.
func (w *worker) drain(c net.Conn, dead chan<- struct{}) {
	defer close(dead)
	r := bufio.NewReaderSize(c, 64<<10)
	var size [4]byte
	for {
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint32(size[:]))
		if _, err := r.Discard(int(n)); err != nil {
			return
		}
		w.st.answers.Add(1)
	}
}
