package group

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// listedGroup is one row of `group list`, and its --json form. Members is
// -1 when the group could not be described.
type listedGroup struct {
	Group        string `json:"group"`
	Type         string `json:"type"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
	Coordinator  int32  `json:"coordinator"`
}

// groupStates are Kafka's group state names (GroupState.toString), the
// values ListGroups filters on.
var groupStates = []string{"Empty", "Stable", "PreparingRebalance", "CompletingRebalance",
	"Assigning", "Reconciling", "NotReady", "Dead"}

// groupTypes are Kafka's group types (KIP-848 ListGroups v5).
var groupTypes = []string{"classic", "consumer", "share", "streams"}

type listOptions struct {
	states, types []string
	asJSON        bool
}

func newList(cfg *clientcmd.Config) *cobra.Command {
	o := &listOptions{}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups",
		Long: `List every group in the cluster (ListGroups on every broker) with its type
(classic or consumer), state, protocol type and number of members.
--state keeps groups in the given states (Empty, Stable, PreparingRebalance,
CompletingRebalance, Assigning, Reconciling, Dead); --type keeps groups of
the given types.`,
		Example: `  sluice group list
  sluice group list --state Stable,Empty
  sluice group list --json | jq -r '.[].group'`,
		Args: clientcmd.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, cfg) },
	}
	f := c.Flags()
	f.StringSliceVar(&o.states, "state", nil, "only groups in these states (comma-separated or repeated; case-insensitive)")
	f.StringSliceVar(&o.types, "type", nil, "only groups of these types: classic, consumer (comma-separated or repeated)")
	f.BoolVar(&o.asJSON, "json", false, "print a JSON array of {group, type, state, protocol_type, members, coordinator}")
	return c
}

// canonical maps user input (any case, '-' or '_' ignored) to a name of
// valid, or returns a UsageError naming flag and the valid names.
func canonical(flag string, in []string, valid []string) ([]string, error) {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s)) }
	out := make([]string, 0, len(in))
	for _, s := range in {
		i := slices.IndexFunc(valid, func(v string) bool { return norm(v) == norm(strings.TrimSpace(s)) })
		if i < 0 {
			return nil, clientcmd.Usagef("%s %q: want one of %s", flag, s, strings.Join(valid, ", "))
		}
		out = append(out, valid[i])
	}
	return out, nil
}

func (o *listOptions) run(cmd *cobra.Command, cfg *clientcmd.Config) error {
	states, err := canonical("--state", o.states, groupStates)
	if err != nil {
		return err
	}
	types, err := canonical("--type", o.types, groupTypes)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := cfg.NewClient(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	groups, err := listGroups(ctx, cl, states, types)
	if err != nil {
		return err
	}
	countMembers(ctx, kadm.NewClient(cl), groups)
	if o.asJSON {
		return clientcmd.WriteJSON(cmd.OutOrStdout(), groups)
	}
	t := clientcmd.NewTable(cmd.OutOrStdout(), "GROUP", "TYPE", "STATE", "PROTOCOL-TYPE", "MEMBERS", "COORDINATOR")
	for _, g := range groups {
		members := fmt.Sprint(g.Members)
		if g.Members < 0 {
			members = "-"
		}
		t.Row(g.Group, g.Type, g.State, orDash(g.ProtocolType), members, g.Coordinator)
	}
	return t.Flush()
}

// listGroups asks every broker for the groups it coordinates. Filters are
// sent to the broker and applied again here, for brokers too old to apply
// them (ListGroups < v4 for states, < v5 for types).
func listGroups(ctx context.Context, cl *kgo.Client, states, types []string) ([]listedGroup, error) {
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter, req.TypesFilter = states, types
	var groups []listedGroup
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return nil, fmt.Errorf("list groups on broker %d: %w", shard.Meta.NodeID, shard.Err)
		}
		resp := shard.Resp.(*kmsg.ListGroupsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, fmt.Errorf("list groups on broker %d: %w", shard.Meta.NodeID, err)
		}
		for _, g := range resp.Groups {
			lg := listedGroup{Group: g.Group, Type: g.GroupType, State: g.GroupState,
				ProtocolType: g.ProtocolType, Members: -1, Coordinator: shard.Meta.NodeID}
			if lg.Type == "" {
				lg.Type = "classic" // before KIP-848 every group is classic
			}
			if (len(states) > 0 && !slices.Contains(states, lg.State)) || (len(types) > 0 && !slices.Contains(types, lg.Type)) {
				continue
			}
			groups = append(groups, lg)
		}
	}
	slices.SortFunc(groups, func(a, b listedGroup) int { return strings.Compare(a.Group, b.Group) })
	return groups, nil
}

// countMembers fills in Members by describing the groups; a group that
// cannot be described keeps -1 (it may have gone meanwhile).
func countMembers(ctx context.Context, adm *kadm.Client, groups []listedGroup) {
	var classic, consumer []string
	for _, g := range groups {
		if g.Type == "consumer" {
			consumer = append(consumer, g.Group)
		} else {
			classic = append(classic, g.Group)
		}
	}
	counts := map[string]int{}
	if len(classic) > 0 {
		described, _ := adm.DescribeGroups(ctx, classic...) // partial results are fine
		for _, d := range described {
			if d.Err == nil {
				counts[d.Group] = len(d.Members)
			}
		}
	}
	if len(consumer) > 0 {
		described, _ := adm.DescribeConsumerGroups(ctx, consumer...)
		for _, d := range described {
			if d.Err == nil {
				counts[d.Group] = len(d.Members)
			}
		}
	}
	for i := range groups {
		if n, ok := counts[groups[i].Group]; ok {
			groups[i].Members = n
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
