// Package runtimetest has fakes for testing coordinator shards: an
// in-memory Log and a Clock whose time moves only when a test says so.
package runtimetest
