// Package cli holds the sluice sub-commands (cobra). `serve` runs the
// broker; every other command is a Kafka client that speaks the protocol
// through franz-go, like any other client, so it works against any Kafka
// cluster too. Commands live in <noun>/<verb>.go files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/dev"
)

// Main runs the CLI with args and returns the process exit code.
func Main(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
			return 2
		}
		fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake in how a command was called: it exits 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// globals are the flags every client command shares.
type globals struct {
	brokers []string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "sluice",
		Short: "Sluice: a Kafka-compatible broker in one binary",
		Long: `Sluice speaks Apache Kafka's protocol: any Kafka client works against it unchanged.

Run a broker with zero config:      sluice serve
Point clients at it:                 localhost:9092`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringSliceVarP(&g.brokers, "brokers", "b", []string{"localhost:9092"},
		"Kafka bootstrap servers (host:port, comma-separated)")
	d := dev.New()
	exitTwoOnUsage(d)
	root.AddCommand(newServe(), d)
	addClientCommands(root, g)
	return root
}
