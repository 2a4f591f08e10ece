package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiles are serve's hidden profiling flags (bench/README.md): a CPU
// profile written from start to shutdown, and a heap profile written at
// shutdown. Both are for benchmarking; a normal run sets neither.
type profiles struct {
	cpu string // --cpuprofile FILE
	mem string // --memprofile FILE
}

// start begins the CPU profile and returns the function that ends both
// profiles; it is a no-op when no flag is set.
func (p profiles) start() (stop func() error, err error) {
	var cpu *os.File
	if p.cpu != "" {
		if cpu, err = os.Create(p.cpu); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
		}
		if p.mem == "" {
			return nil
		}
		f, err := os.Create(p.mem)
		if err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
		runtime.GC() // up-to-date statistics
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return fmt.Errorf("heap profile: %w", err)
		}
		return f.Close()
	}, nil
}
