// Package dev holds `sluice dev ...`: conveniences for running Sluice on
// a developer's machine (today: `dev cluster`, a local cluster of
// `sluice serve` processes on loopback, the counterpart of
// `rpk container start -n 3` without containers).
package dev

import "github.com/spf13/cobra"

// New returns the `dev` command and its verbs.
func New() *cobra.Command {
	c := &cobra.Command{
		Use:   "dev",
		Short: "Run Sluice locally for development (a local cluster)",
		Long:  `Conveniences for running Sluice on this machine.`,
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newCluster())
	return c
}
