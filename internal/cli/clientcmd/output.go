package clientcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table writes aligned columns, like rpk's and kubectl's listings. It is not
// safe for concurrent use.
type Table struct{ tw *tabwriter.Writer }

// NewTable starts a table on w with a header row.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	fmt.Fprintln(t.tw, strings.Join(headers, "\t"))
	return t
}

// Row adds a row; cells are printed with %v.
func (t *Table) Row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// TopicResults prints a TOPIC/STATUS table, one row per topic, and returns
// the per-topic errors joined (nil when every topic succeeded). result
// returns a topic's error from the cluster and the broker's message; ok is
// the STATUS of a success.
func TopicResults(w io.Writer, topics []string, ok string, result func(topic string) (brokerMsg string, err error)) error {
	t := NewTable(w, "TOPIC", "STATUS")
	var errs []error
	for _, topic := range topics {
		msg, err := result(topic)
		err = TopicError(topic, err, msg)
		t.Row(topic, Status(err, ok))
		errs = append(errs, err)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
