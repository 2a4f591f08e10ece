package topic

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

type alterConfigOptions struct {
	set, del []string
	dryRun   bool
}

func newAlterConfig(cfg *clientcmd.Config) *cobra.Command {
	o := &alterConfigOptions{}
	c := &cobra.Command{
		Use:   "alter-config NAME...",
		Short: "Set or delete topic configs",
		Long: `Change topic configs incrementally (IncrementalAlterConfigs): --set adds or
replaces a key, --delete returns a key to its default. Other keys keep their
values.`,
		Example: `  sluice topic alter-config orders --set retention.ms=3600000
  sluice topic alter-config orders --set cleanup.policy=compact --delete retention.ms
  sluice topic alter-config orders payments --set min.insync.replicas=2 --dry-run`,
		Args: clientcmd.MinArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error { return o.run(cmd, cfg, topics) },
	}
	f := c.Flags()
	f.StringArrayVarP(&o.set, "set", "s", nil, "config key=value to set (repeatable)")
	f.StringArrayVarP(&o.del, "delete", "d", nil, "config key to reset to its default (repeatable)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only validate the change (validate_only)")
	return c
}

// alterations turns --set and --delete into incremental operations.
func (o *alterConfigOptions) alterations() ([]kadm.AlterConfig, error) {
	if len(o.set) == 0 && len(o.del) == 0 {
		return nil, clientcmd.Usagef("nothing to change: pass --set key=value and/or --delete key")
	}
	sets, err := clientcmd.ParseConfigs("--set", o.set)
	if err != nil {
		return nil, err
	}
	var acs []kadm.AlterConfig
	for k, v := range sets {
		acs = append(acs, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	seen := make(map[string]bool, len(o.del))
	for _, k := range o.del {
		if _, both := sets[k]; both || seen[k] || k == "" {
			return nil, clientcmd.Usagef("--delete %q: empty, repeated, or also given to --set", k)
		}
		seen[k] = true
		acs = append(acs, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return acs, nil
}

func (o *alterConfigOptions) run(cmd *cobra.Command, cfg *clientcmd.Config, topics []string) error {
	acs, err := o.alterations()
	if err != nil {
		return err
	}
	adm, err := cfg.NewAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer adm.Close()
	alter, ok := adm.AlterTopicConfigs, "OK"
	if o.dryRun {
		alter, ok = adm.ValidateAlterTopicConfigs, "OK (dry run: not changed)"
	}
	resps, err := alter(cmd.Context(), acs, topics...)
	if err != nil {
		return fmt.Errorf("alter topic configs: %w", err)
	}
	return clientcmd.TopicResults(cmd.OutOrStdout(), topics, ok, func(topic string) (string, error) {
		r, err := resps.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		return r.ErrMessage, err
	})
}
