package runtime

import "unicode/utf16"

// Partition is the partition of an internal topic with partitions
// partitions that holds key (a group id, a transactional id), as Kafka
// computes it: Utils.abs(key.hashCode()) % partitions, with Java's
// String.hashCode over UTF-16 code units and Kafka's abs, which maps
// Integer.MIN_VALUE to 0. Clients never compute it, but the same key
// lands in the same partition as on a Kafka cluster, so an internal topic
// copied between the two stays meaningful.
func Partition(key string, partitions int32) int32 {
	h := javaHashCode(key)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// javaHashCode is java.lang.String.hashCode: s[0]*31^(n-1) + ... + s[n-1]
// over UTF-16 code units, in int32 arithmetic. Invalid UTF-8 decodes to
// U+FFFD, as Java's decoder does.
func javaHashCode(s string) int32 {
	var h int32
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
		h = 31*h + int32(s[i])
	}
	if ascii {
		return h
	}
	h = 0
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}
