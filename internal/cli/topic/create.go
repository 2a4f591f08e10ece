package topic

import (
	"errors"
	"fmt"
	"math"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

type createOptions struct {
	partitions  int32
	replication int32
	configs     []string
	dryRun      bool
}

func newCreate(cfg *clientcmd.Config) *cobra.Command {
	o := &createOptions{}
	c := &cobra.Command{
		Use:   "create NAME...",
		Short: "Create topics",
		Long: `Create one or more topics (CreateTopics). Partitions and replication factor
default to the cluster's num.partitions and default.replication.factor.`,
		Example: `  sluice topic create orders
  sluice topic create orders payments -p 6 -r 3
  sluice topic create events -c retention.ms=86400000 -c cleanup.policy=compact
  sluice topic create events -p 12 --dry-run   # validate only`,
		Args: clientcmd.MinArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, cfg, args) },
	}
	f := c.Flags()
	f.Int32VarP(&o.partitions, "partitions", "p", -1, "number of partitions (-1: the cluster default)")
	f.Int32VarP(&o.replication, "replication-factor", "r", -1, "replicas per partition (-1: the cluster default)")
	f.StringArrayVarP(&o.configs, "config", "c", nil, "topic config key=value (repeatable)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only validate the request (validate_only); create nothing")
	return c
}

func (o *createOptions) validate() (map[string]*string, error) {
	if o.partitions == 0 || o.partitions < -1 {
		return nil, clientcmd.Usagef("--partitions %d: want a count >= 1, or -1 for the cluster default", o.partitions)
	}
	if o.replication == 0 || o.replication < -1 || o.replication > math.MaxInt16 {
		return nil, clientcmd.Usagef("--replication-factor %d: want 1..%d, or -1 for the cluster default", o.replication, math.MaxInt16)
	}
	kvs, err := clientcmd.ParseConfigs("--config", o.configs)
	if err != nil {
		return nil, err
	}
	configs := make(map[string]*string, len(kvs))
	for k, v := range kvs {
		configs[k] = kadm.StringPtr(v)
	}
	return configs, nil
}

func (o *createOptions) run(cmd *cobra.Command, cfg *clientcmd.Config, topics []string) error {
	configs, err := o.validate()
	if err != nil {
		return err
	}
	adm, err := cfg.NewAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer adm.Close()
	create := adm.CreateTopics
	if o.dryRun {
		create = adm.ValidateCreateTopics
	}
	resps, err := create(cmd.Context(), o.partitions, int16(o.replication), configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	ok := "OK"
	if o.dryRun {
		ok = "OK (dry run: not created)"
	}
	return clientcmd.TopicResults(cmd.OutOrStdout(), topics, ok, func(topic string) (string, error) {
		r, found := resps[topic]
		if !found {
			return "", errors.New("missing from the CreateTopics response")
		}
		return r.ErrMessage, r.Err
	})
}
