// Package e2e drives the real sluice binary with clients nobody here
// wrote: kafka-python, confluent-kafka (librdkafka) and kcat.
package e2e
