// Package clientcmd holds what every sluice client command shares: the
// connection to a Kafka cluster (seed brokers from --brokers or
// SLUICE_BROKERS, a reachability check with a message that says how to fix
// it), usage errors that exit 2, argument and key=value parsing, the escape
// and header syntax of --format strings, error messages that name the Kafka
// error code, and table/JSON output.
//
// The command packages (topic, produce, consume, cluster) build on it; the
// cli package turns UsageError into its own exit-2 error, so subpackages do
// not import cli.
package clientcmd
