package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// probeEvery is how often a starting broker's port is tried.
const probeEvery = time.Millisecond

// waitAPIVersions returns once addr answers an ApiVersions request without
// error: the moment a Kafka client could start working. exited reports a
// broker that died while starting.
func waitAPIVersions(ctx context.Context, addr string, exited <-chan struct{}) error {
	for {
		err := apiVersions(addr)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never answered ApiVersions: %w (last: %v)", addr, ctx.Err(), err)
		case <-exited:
			return fmt.Errorf("broker exited before answering ApiVersions (last: %v)", err)
		case <-time.After(probeEvery): // polling a port: there is no event to wait on
		}
	}
}

// apiVersions sends one ApiVersions v3 request on a new connection, with
// no client library in the way, and checks the answer.
func apiVersions(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-compare", "1"
	const correlation = 1
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-compare")).AppendRequest(nil, req, correlation)
	if _, err := conn.Write(frame); err != nil {
		return err
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return err
	}
	// ApiVersions responses keep header v0 (no tagged fields) at every
	// version (KIP-511), so the body starts after the correlation id.
	if len(body) < 4 || binary.BigEndian.Uint32(body) != correlation {
		return fmt.Errorf("ApiVersions: bad response header")
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = req.Version
	if err := resp.ReadFrom(body[4:]); err != nil {
		return fmt.Errorf("ApiVersions: %w", err)
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}
