package config

import (
	"errors"
	"testing"
)

func TestConnectionCrossKeyChecks(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		key   string // "" when valid
		msg   string
	}{
		{"queued bytes below the request size", map[string]string{"queued.max.request.bytes": "1000"},
			"queued.max.request.bytes", "queued.max.request.bytes must be larger or equal to socket.request.max.bytes"},
		{"queued bytes at the request size", map[string]string{"queued.max.request.bytes": "2000", "socket.request.max.bytes": "2000"}, "", ""},
		{"queued bytes unbounded", map[string]string{"queued.max.request.bytes": "-1"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FromProperties(nil, tt.props)
			if tt.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key || err.Error() != tt.msg {
				t.Fatalf("err = %v, want %q for %s", err, tt.msg, tt.key)
			}
		})
	}
}
