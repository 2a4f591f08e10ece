package group

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func newDelete(cfg *clientcmd.Config) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete empty groups and their committed offsets",
		Long: `Delete consumer groups (DeleteGroups): the group and every offset it
committed are gone. Only a group without active members can be deleted:
stop its consumers first.`,
		Example: `  sluice group delete billing
  sluice group delete billing audit`,
		Args: clientcmd.MinArgs(1, "at least one group id"),
		RunE: func(cmd *cobra.Command, groups []string) error {
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			resps, err := adm.DeleteGroups(cmd.Context(), groups...)
			if err != nil {
				return fmt.Errorf("delete groups: %w", err)
			}
			t := clientcmd.NewTable(cmd.OutOrStdout(), "GROUP", "STATUS")
			var errs []error
			for _, g := range groups {
				r, ok := resps[g]
				err := r.Err
				if !ok {
					err = errors.New("missing from the DeleteGroups response")
				}
				err = groupError(g, err, "")
				t.Row(g, clientcmd.Status(err, "OK"))
				errs = append(errs, err)
			}
			if err := t.Flush(); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
}
