package clientcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BrokersEnv is the environment variable that sets the seed brokers when
// --brokers is not given.
const BrokersEnv = "SLUICE_BROKERS"

// pingTimeout bounds the first round trip to the cluster, so a wrong
// --brokers fails in seconds instead of hanging in retries.
const pingTimeout = 10 * time.Second

// Config is how a client command reaches the cluster. It is read-only after
// construction and safe for concurrent use.
type Config struct {
	// Brokers returns the seed brokers (host:port). It is called when a
	// command runs, after flags are parsed.
	Brokers func() []string
}

// ResolveBrokers picks the seed brokers: the --brokers flag when the user
// set it (flagSet), else env's BrokersEnv when non-empty, else the flag's
// default. Items are comma-separated; blanks are dropped.
func ResolveBrokers(flag []string, flagSet bool, getenv func(string) string) []string {
	raw := flag
	if env := getenv(BrokersEnv); !flagSet && strings.TrimSpace(env) != "" {
		raw = []string{env}
	}
	var out []string
	for _, item := range raw {
		for b := range strings.SplitSeq(item, ",") {
			if b = strings.TrimSpace(b); b != "" {
				out = append(out, b)
			}
		}
	}
	return out
}

// NewClient returns a franz-go client for the cluster, after checking that
// one broker answers. opts are added after the seed brokers. The caller
// closes the client.
func (c *Config) NewClient(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
	brokers := c.Brokers()
	if len(brokers) == 0 {
		return nil, Usagef("--brokers is empty: pass --brokers host:port or set %s", BrokersEnv)
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID("sluice-cli")}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, Usagef("--brokers %s: %v", strings.Join(brokers, ","), err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreachable(brokers, err)
	}
	return cl, nil
}

// NewAdmin is NewClient wrapped in an admin client. The caller closes it
// (closing the admin client closes the underlying client).
func (c *Config) NewAdmin(ctx context.Context) (*kadm.Client, error) {
	cl, err := c.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

func unreachable(brokers []string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v", pingTimeout)
	}
	return fmt.Errorf("cannot reach the cluster at %s: %w (is `sluice serve` running? pass --brokers host:port)",
		strings.Join(brokers, ","), err)
}
