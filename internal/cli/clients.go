package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/bench"
	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/cluster"
	"github.com/sluice-io/sluice/internal/cli/consume"
	"github.com/sluice-io/sluice/internal/cli/group"
	"github.com/sluice-io/sluice/internal/cli/produce"
	"github.com/sluice-io/sluice/internal/cli/producer"
	"github.com/sluice-io/sluice/internal/cli/topic"
	"github.com/sluice-io/sluice/internal/cli/txn"
)

// addClientCommands adds the Kafka client commands (topic, produce,
// consume, group, cluster).
func addClientCommands(root *cobra.Command, g *globals) {
	flag := root.PersistentFlags().Lookup("brokers")
	flag.Usage += " (or env " + clientcmd.BrokersEnv + ")"
	cfg := &clientcmd.Config{Brokers: func() []string {
		return clientcmd.ResolveBrokers(g.brokers, flag.Changed, os.Getenv)
	}}
	for _, c := range []*cobra.Command{topic.New(cfg), produce.New(cfg), consume.New(cfg), group.New(cfg), cluster.New(cfg), bench.New(cfg),
		txn.New(cfg),
		producer.New(cfg),
	} {
		exitTwoOnUsage(c)
		root.AddCommand(c)
	}
}

// exitTwoOnUsage makes c and its sub-commands report clientcmd usage errors
// and flag parse errors as usageError, which exits 2.
func exitTwoOnUsage(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error { return asUsage(run(cmd, args)) }
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error { return asUsage(check(cmd, args)) }
	}
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, sub := range c.Commands() {
		exitTwoOnUsage(sub)
	}
}

func asUsage(err error) error {
	if clientcmd.IsUsage(err) {
		return usageError{err}
	}
	return err
}
