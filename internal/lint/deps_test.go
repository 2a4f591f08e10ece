package lint

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/sluice-io/sluice/"

// layers maps each package (by path below the module, longest prefix
// wins) to its layer in DESIGN.md §3. An import may point to the same
// layer or below, never above.
var layers = map[string]int{
	"internal/model": 0, "internal/fuzzcorpus": 0, "internal/clock": 0, "internal/vfs": 0, "internal/sysio": 0,
	"internal/batch": 1, "internal/kafka/wire": 1, "internal/kafka/prescan": 1, "internal/config": 1, "internal/procs": 1,
	"internal/storage": 2, "internal/raft": 2,
	"internal/metadata": 3, "internal/replica": 3, "internal/auth": 3, "internal/quota": 3,
	"internal/producerid": 3, "internal/kafka/fetchsession": 3,
	"internal/controller": 4, "internal/cluster": 4, "internal/coord": 4,
	"internal/kafka/handler": 5, "internal/kafka/conn": 5, "internal/http": 5,
	"internal/node": 6, "internal/cli": 6, "internal/bench": 6,
	"internal/node/nodetest": 7, "internal/lint": 7,
	"cmd": 8, "tests": 8, "bench": 8,
}

func layerOf(pkg string) (int, bool) {
	best, layer := "", 0
	for prefix, l := range layers {
		if (pkg == prefix || strings.HasPrefix(pkg, prefix+"/")) && len(prefix) > len(best) {
			best, layer = prefix, l
		}
	}
	return layer, best != ""
}

type pkgInfo struct {
	path, doc string
	imports   []string
}

func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{.Doc}}\t{{join .Imports \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		pkgs = append(pkgs, pkgInfo{path: strings.TrimPrefix(f[0], module), doc: f[1], imports: strings.Fields(f[2])})
	}
	return pkgs
}

func TestLayering(t *testing.T) {
	for _, p := range listPackages(t) {
		from, ok := layerOf(p.path)
		if !ok {
			t.Errorf("package %s has no layer: add it to DESIGN.md §3 and this table", p.path)
			continue
		}
		for _, imp := range p.imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			to, ok := layerOf(imp)
			if ok && to > from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", p.path, from, imp, to)
			}
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.doc == "" && p.path != "cmd/sluice" {
			t.Errorf("package %s has no package comment", p.path)
		}
	}
}
