package runtime

import "testing"

func TestPartition(t *testing.T) {
	// Hash codes and partitions as Java and Kafka compute them.
	tests := []struct {
		key  string
		hash int32
		n    int32
		want int32
	}{
		{"", 0, 50, 0},
		{"a", 97, 50, 47},
		{"test", 3556498, 50, 48},
		{"my-group", -1906497762, 50, 12},
		{"console-consumer-12345", 158455506, 50, 6},
		{"polygenelubricants", -2147483648, 50, 0}, // abs(MIN_VALUE) is 0 in Kafka
		{"日本", 835047, 50, 47},                     // BMP: one code unit per rune
		{"😀", 1772899, 50, 49},                     // astral: a surrogate pair
		{"test", 3556498, 5, 3},
	}
	for _, tt := range tests {
		if h := javaHashCode(tt.key); h != tt.hash {
			t.Errorf("javaHashCode(%q) = %d, want %d", tt.key, h, tt.hash)
		}
		if p := Partition(tt.key, tt.n); p != tt.want {
			t.Errorf("Partition(%q, %d) = %d, want %d", tt.key, tt.n, p, tt.want)
		}
	}
}
