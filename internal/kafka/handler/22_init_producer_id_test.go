package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestInitProducerID(t *testing.T) {
	a := startAdmin(t)
	tests := []struct {
		name     string
		version  int16
		txnID    *string
		pid      int64
		epoch    int16
		wantCode string
	}{
		{"v0", 0, nil, -1, -1, "OK"},
		{"v2 flexible", 2, nil, -1, -1, "OK"},
		{"v3 with its current id gets a new id (KIP-360, non-transactional)", 3, nil, 0, 0, "OK"},
		{"v5", 5, nil, -1, -1, "OK"},
		{"id without epoch", 4, nil, 7, -1, codeName(42)},
		{"epoch without id", 4, nil, -1, 3, codeName(42)},
		{"empty transactional id", 4, strp(""), -1, -1, codeName(42)},
		{"transactional id before FindCoordinator: not the coordinator", 4, strp("tx"), -1, -1, codeName(16)},
	}
	seen := map[int64]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrInitProducerIDRequest()
			req.TransactionalID, req.TransactionTimeoutMillis = tt.txnID, 60000
			req.ProducerID, req.ProducerEpoch = tt.pid, tt.epoch
			resp := a.requestAt(t, tt.version, req).(*kmsg.InitProducerIDResponse)
			if got := codeName(resp.ErrorCode); got != tt.wantCode {
				t.Fatalf("error %s, want %s", got, tt.wantCode)
			}
			if tt.wantCode != "OK" {
				if resp.ProducerID != -1 || resp.ProducerEpoch != -1 {
					t.Fatalf("error answer carries id %d epoch %d", resp.ProducerID, resp.ProducerEpoch)
				}
				return
			}
			if resp.ProducerID < 0 || resp.ProducerEpoch != 0 || seen[resp.ProducerID] {
				t.Fatalf("id %d epoch %d: want a new id with epoch 0", resp.ProducerID, resp.ProducerEpoch)
			}
			seen[resp.ProducerID] = true
		})
	}
}
