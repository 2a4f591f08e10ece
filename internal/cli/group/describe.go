package group

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func newDescribe(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "describe GROUP",
		Short: "Show a group's members, committed offsets and lag",
		Long: `Describe a consumer group, like kafka-consumer-groups.sh --describe: a
summary (type, state, assignor, members, total lag), then per partition the
group owns or has committed for: the committed offset (CURRENT-OFFSET), the
log end offset, the lag between them, and the member that owns the
partition (consumer id, host, client id). "-" means nothing committed yet,
or no owner. Members that own no partition get a row with TOPIC "-".`,
		Example: `  sluice group describe billing
  sluice group describe billing --json | jq '.total_lag'`,
		Args: clientcmd.ExactArgs(1, "one group id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			adm, err := cfg.NewAdmin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			d, err := describeMembers(ctx, adm, args[0])
			if err != nil {
				return err
			}
			d.sortMembers()
			if err := d.fillOffsets(ctx, adm); err != nil {
				return err
			}
			if asJSON {
				return clientcmd.WriteJSON(cmd.OutOrStdout(), d)
			}
			return d.print(cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the group, its members and partitions as JSON")
	return c
}

func (d *described) print(w io.Writer) error {
	t := clientcmd.NewTable(w, "GROUP", "TYPE", "STATE", "PROTOCOL-TYPE", "PROTOCOL", "MEMBERS", "COORDINATOR", "TOTAL-LAG")
	t.Row(d.Group, d.Type, d.State, orDash(d.ProtocolType), orDash(d.Protocol), len(d.Members), d.Coordinator, d.TotalLag)
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(d.Members) == 0 {
		fmt.Fprintf(w, "Group %q has no active members.\n\n", d.Group)
	}
	t = clientcmd.NewTable(w, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
		"CONSUMER-ID", "HOST", "CLIENT-ID", "ERROR")
	for _, p := range d.Partitions {
		t.Row(d.Group, p.Topic, p.Partition, cell(p.CurrentOffset), cell(p.LogEndOffset), cell(p.Lag),
			orDash(p.MemberID), orDash(p.Host), orDash(p.ClientID), orDash(p.Error))
	}
	for _, m := range d.Members {
		if len(m.Assigned) == 0 {
			t.Row(d.Group, "-", "-", "-", "-", "-", m.MemberID, orDash(m.Host), orDash(m.ClientID), "-")
		}
	}
	return t.Flush()
}

// cell is an optional number for a table cell: the number, or "-".
func cell(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}
