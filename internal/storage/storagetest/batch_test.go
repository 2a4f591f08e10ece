package storagetest

import (
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
)

func TestBuildValidates(t *testing.T) {
	tests := []struct {
		name string
		sp   Spec
	}{
		{"one record", Spec{}},
		{"many records", Spec{Records: 50, ValueSize: 100, FirstTimestamp: 1000, TimestampStep: 3}},
		{"producer", Spec{Records: 2, ProducerID: 7}},
		{"empty values", Spec{Records: 3, ValueSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Build(tt.sp)
			h, err := batch.Validate(b)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got, want := int(h.RecordCount()), max(tt.sp.Records, 1); got != want {
				t.Errorf("records = %d, want %d", got, want)
			}
			wantMax := tt.sp.FirstTimestamp + int64(max(tt.sp.Records, 1)-1)*tt.sp.TimestampStep
			if h.MaxTimestamp() != wantMax {
				t.Errorf("max timestamp = %d, want %d", h.MaxTimestamp(), wantMax)
			}
		})
	}
}

func TestBatchOfSize(t *testing.T) {
	for _, size := range []int{80, 100, 1024, 4096, 70000} {
		if b := BatchOfSize(size, 5); len(b) != size {
			t.Errorf("BatchOfSize(%d) = %d bytes", size, len(b))
		} else if _, err := batch.Validate(b); err != nil {
			t.Errorf("BatchOfSize(%d): %v", size, err)
		}
	}
}
