package conn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Bytes written raw arrive whole and in order, also when the peer reads
// slowly enough that writes must wait for the socket buffer; reading raw
// returns them and then io.EOF.
func TestRawSocketCarriesBytesThenEOF(t *testing.T) {
	client, server := tcpPair(t)
	want := make([]byte, 16<<20) // far past the socket buffers
	for i := range want {
		want[i] = byte(i * 7)
	}
	wrote := make(chan error, 1)
	go func() {
		w := newRawWriter(server)
		_, err := w.Write(want[:5])
		if err == nil {
			_, err = w.Write(want[5:])
		}
		server.Close()
		wrote <- err
	}()
	got, err := io.ReadAll(newRawReader(client))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d equal bytes", len(got), len(want))
	}
}

func TestRawReaderKeepsDeadlineAndClose(t *testing.T) {
	client, _ := tcpPair(t)
	r := newRawReader(client)
	client.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	client.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	client.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed connection: %v, want net.ErrClosed", err)
	}
}

func TestRawWriterReportsPeerGone(t *testing.T) {
	client, server := tcpPair(t)
	client.(*net.TCPConn).SetLinger(0) // close with a reset
	client.Close()
	w := newRawWriter(server)
	var err error
	for i := 0; i < 100 && err == nil; i++ { // the reset arrives after the first write
		_, err = w.Write(make([]byte, 64<<10))
	}
	if err == nil {
		t.Fatal("writes to a reset connection kept succeeding")
	}
}
