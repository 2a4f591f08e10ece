package cluster

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

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
	// UnderReplicated lists the partitions (topic/partition) with fewer
	// in-sync replicas than replicas; Offline those without a leader.
	UnderReplicated []string `json:"under_replicated"`
	Offline         []string `json:"offline"`
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
controller's node id, every broker's id, advertised host:port and rack, how
many topics exist, and the partitions that are under-replicated (fewer
in-sync replicas than replicas) or offline (no leader).`,
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
	in := info{ClusterID: m.Cluster, Controller: m.Controller, Brokers: []broker{}, UnderReplicated: []string{}, Offline: []string{}}
	for _, b := range m.Brokers {
		br := broker{ID: b.NodeID, Addr: net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		in.Brokers = append(in.Brokers, br)
	}
	for _, td := range m.Topics.Sorted() {
		in.Topics++
		if td.IsInternal {
			in.InternalTopics++
		}
		for _, p := range td.Partitions.Sorted() {
			name := td.Topic + "/" + strconv.Itoa(int(p.Partition))
			if p.Leader < 0 {
				in.Offline = append(in.Offline, name)
			}
			if len(p.ISR) < len(p.Replicas) {
				in.UnderReplicated = append(in.UnderReplicated, name)
			}
		}
	}
	return in
}

// listed prints up to ten names of a list and how many more there are.
func listed(names []string) string {
	if len(names) == 0 {
		return "0"
	}
	const shown = 10
	s := fmt.Sprintf("%d (%s", len(names), strings.Join(names[:min(len(names), shown)], ", "))
	if len(names) > shown {
		s += fmt.Sprintf(", %d more", len(names)-shown)
	}
	return s + ")"
}

func (in info) print(w io.Writer) error {
	fmt.Fprintf(w, "CLUSTER     %s\n", in.ClusterID)
	fmt.Fprintf(w, "CONTROLLER  %d\n", in.Controller)
	fmt.Fprintf(w, "TOPICS      %d (%d internal)\n", in.Topics, in.InternalTopics)
	fmt.Fprintf(w, "UNDER-REPLICATED PARTITIONS  %s\n", listed(in.UnderReplicated))
	fmt.Fprintf(w, "OFFLINE PARTITIONS           %s\n\n", listed(in.Offline))
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
