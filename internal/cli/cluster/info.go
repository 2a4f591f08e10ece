package cluster

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// info is what `cluster info` prints, and its --json form.
type info struct {
	ClusterID      string   `json:"cluster_id"`
	Controller     int32    `json:"controller"`
	Brokers        []broker `json:"brokers"`
	Topics         int      `json:"topics"`
	InternalTopics int      `json:"internal_topics"`
}

type broker struct {
	ID   int32  `json:"id"`
	Addr string `json:"addr"`
	Rack string `json:"rack,omitempty"`
}

func newInfo(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, controller, brokers and topic count",
		Long: `Show what the cluster says about itself (Metadata): its cluster id, the
controller's node id, every broker's id, advertised host:port and rack, and
how many topics exist.`,
		Example: `  sluice cluster info
  sluice cluster info -b kafka-1:9092 --json`,
		Args: clientcmd.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			m, err := adm.Metadata(cmd.Context())
			if err != nil {
				return fmt.Errorf("cluster metadata: %w", err)
			}
			in := newInfoFrom(m)
			if asJSON {
				return clientcmd.WriteJSON(cmd.OutOrStdout(), in)
			}
			return in.print(cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func newInfoFrom(m kadm.Metadata) info {
	in := info{ClusterID: m.Cluster, Controller: m.Controller, Brokers: []broker{}}
	for _, b := range m.Brokers {
		br := broker{ID: b.NodeID, Addr: net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		in.Brokers = append(in.Brokers, br)
	}
	for _, td := range m.Topics {
		in.Topics++
		if td.IsInternal {
			in.InternalTopics++
		}
	}
	return in
}

func (in info) print(w io.Writer) error {
	fmt.Fprintf(w, "CLUSTER     %s\n", in.ClusterID)
	fmt.Fprintf(w, "CONTROLLER  %d\n", in.Controller)
	fmt.Fprintf(w, "TOPICS      %d (%d internal)\n\n", in.Topics, in.InternalTopics)
	t := clientcmd.NewTable(w, "BROKER", "ADDRESS", "RACK")
	for _, b := range in.Brokers {
		rack := b.Rack
		if rack == "" {
			rack = "-"
		}
		t.Row(b.ID, b.Addr, rack)
	}
	return t.Flush()
}
