package clientcmd

import "github.com/spf13/cobra"

// ExactArgs is cobra.ExactArgs with a UsageError that names what is
// expected (what, e.g. "a topic name").
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return Usagef("%s takes %s, got %d argument(s) (see `%s --help`)", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// MinArgs is cobra.MinimumNArgs with a UsageError that names what is
// expected.
func MinArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return Usagef("%s takes %s (see `%s --help`)", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// NewGroup returns a noun command (topic, cluster) that holds subs. Run
// without a sub-command it prints its help; with an unknown one it returns a
// UsageError.
func NewGroup(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return Usagef("unknown command %q for %q (see `%s --help`)", args[0], cmd.CommandPath(), cmd.CommandPath())
		},
	}
	c.AddCommand(subs...)
	return c
}
