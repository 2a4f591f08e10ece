// Command sluice is the Sluice binary: `sluice serve` runs the broker, the
// other sub-commands are Kafka clients (see `sluice --help`).
package main

import (
	"os"

	"github.com/sluice-io/sluice/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
