package handler

// The panic safety net. A panic while a request is handled fails that
// request only: it is answered with UNKNOWN_SERVER_ERROR in its API's
// response shape (error_response.go), the stack is logged once, Panics
// counts it, and the connection and the broker keep serving. Handler code
// runs in three places, and each recovers:
//
//   - Broker.Handle, on the connection's reader goroutine;
//   - the goroutine of a Later reply (acks=all produce waits, coordinator
//     waits, controller writes), and the helpers waitDurable starts, whose
//     panic is carried to the Later goroutine;
//   - a waiting fetch's reads, run by whoever pokes it: the producing
//     goroutine, its max_wait timer, the end of the connection
//     (fetchWait.serve).
//
// A reply that fails after Handle returned is reported by whichever of
// Handle and the failing goroutine comes second, as only then are the
// request (for the log) and the panic both known.

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// panics counts requests failed by a panic.
var panics atomic.Int64

// Panics returns how many requests a panic failed since the process
// started. Safe for concurrent use.
func Panics() int64 { return panics.Load() }

// panicked is a recovered panic and the stack that raised it.
type panicked struct {
	value any
	stack []byte
}

// recovered wraps a value returned by recover, keeping the first stack of
// a panic carried across goroutines.
func recovered(v any) *panicked {
	if p, ok := v.(*panicked); ok {
		return p
	}
	return &panicked{value: v, stack: debug.Stack()}
}

// reportPanic logs a request's panic with its stack and counts it.
func reportPanic(b *Broker, req kmsg.Request, p *panicked) {
	panics.Add(1)
	log := slog.Default()
	if b != nil && b.Log != nil {
		log = b.Log
	}
	api, version := "unknown", int16(-1)
	if req != nil {
		api, version = kmsg.NameForKey(req.Key()), req.GetVersion()
	}
	log.Error("request failed by a panic; answered UNKNOWN_SERVER_ERROR",
		"api", api, "version", version, "panic", fmt.Sprint(p.value), "stack", string(p.stack))
}

// recoverHandle answers a request whose handler panicked on the reader
// goroutine. An acks=0 produce expects no answer: its connection is
// closed, as for any other acks=0 error.
func (b *Broker) recoverHandle(req *Request, v any) *Reply {
	reportPanic(b, req.Msg, recovered(v))
	if p, ok := req.Msg.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		return CloseConnection()
	}
	return Now(errorResponse(req.Msg, kerr.UnknownServerError))
}

// lateState is what a reply completing after Handle returned needs when
// a panic fails it. req and b are set by Handle before it settles;
// failure is set before done is closed.
type lateState struct {
	req     kmsg.Request
	b       *Broker
	failure *panicked
	settled atomic.Int32 // Handle and a failure each add one
}

// failed reports whether a panic completed r; valid after Done.
func (r *Reply) failed() bool { return r.late != nil && r.late.failure != nil }

// recoverLater, deferred by a goroutine completing r, fails r if that
// goroutine panics.
func (r *Reply) recoverLater() {
	if v := recover(); v != nil {
		r.fail(recovered(v))
	}
}

// fail completes r as failed by p. The goroutine completing r calls it
// instead of closing done.
func (r *Reply) fail(p *panicked) {
	r.late.failure = p
	r.settle()
	close(r.done)
}

// settle is called by Handle, once it recorded the request of a reply
// that was not complete, and by a failure (fail); the second of the two
// reports the failure.
func (r *Reply) settle() {
	if l := r.late; l.settled.Add(1) == 2 && l.failure != nil {
		reportPanic(l.b, l.req, l.failure)
	}
}

// testHook, when set by a test (export_test.go), runs at the named points
// of handler code so that a test can make them panic.
var testHook atomic.Pointer[func(point string)]

func hook(point string) {
	if h := testHook.Load(); h != nil {
		(*h)(point)
	}
}
