// Package integration drives an in-process Sluice node with franz-go:
// produce, fetch and admin round trips through the real protocol stack.
package integration
