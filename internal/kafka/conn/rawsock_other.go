//go:build !linux

package conn

import (
	"io"
	"net"
)

// Elsewhere a connection is read and written through net.Conn.
func newRawReader(c net.Conn) io.Reader { return c }
func newRawWriter(c net.Conn) io.Writer { return c }
