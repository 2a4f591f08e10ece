package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/procs"
)

func newServe() *cobra.Command {
	var (
		file  string
		sets  []string
		level string
		prof  profiles
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Sluice broker (zero config: localhost:9092, data in ./data)",
		Long: `Run a Sluice broker and controller in one process.

With no flags it listens for Kafka clients on localhost:9092 and keeps its
data in ./data. --config reads a Kafka server.properties file with Kafka's
key names; --set key=value overrides any key (repeatable), after the file.`,
		Example: `  sluice serve
  sluice serve --config server.properties
  sluice serve --set listeners=PLAINTEXT://127.0.0.1:9092 --set log.dirs=/var/lib/sluice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			overrides, err := parseSets(sets)
			if err != nil {
				return err
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(level)); err != nil {
				return usagef("--log-level %q: use debug, info, warn or error", level)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			stopProfiles, err := prof.start()
			if err != nil {
				return err
			}
			err = serve(cmd.Context(), file, overrides, log)
			return errors.Join(err, stopProfiles())
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "Kafka server.properties file to read")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a config key: --set key=value (repeatable)")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	// Hidden, for benchmarks (bench/README.md): pprof profiles of the run.
	cmd.Flags().StringVar(&prof.cpu, "cpuprofile", "", "write a pprof CPU profile of the whole run to FILE")
	cmd.Flags().StringVar(&prof.mem, "memprofile", "", "write a pprof allocation profile to FILE at shutdown")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	_ = cmd.Flags().MarkHidden("memprofile")
	return cmd
}

func parseSets(sets []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--set %q: want key=value, e.g. --set log.dirs=/tmp/sluice", s)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}

func serve(ctx context.Context, file string, overrides map[string]string, log *slog.Logger) error {
	start := time.Now()
	cfg, warnings, err := config.Load(file, overrides)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for _, w := range warnings {
		log.Warn(w.String())
	}
	opts, err := node.FromConfig(cfg, log)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	n, err := node.Start(ctx, opts)
	if err != nil {
		return err
	}
	if cfg.AdaptiveProcs && os.Getenv("GOMAXPROCS") == "" {
		gov := procs.Start(procs.Config{}, log)
		defer gov.Stop()
	}
	log.Info("sluice ready", "kafka", n.Addr(), "data", opts.DataDir, "node.id", opts.NodeID,
		"startup", time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	log.Info("shutting down")
	if err := n.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}
