package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/internal/config"
)

// TestEveryConfigKeyIsAppliedOrDeclaredIgnored keeps the list of accepted
// but ignored config keys honest (issue 13: max.connections was accepted
// and ignored). A key Sluice accepts is applied when the code outside
// internal/config consumes it: it names the key, or it reads a field that
// internal/config fills from the key (b.F = b.Int("key"), or a case "key"
// of Topic.set assigning t.F), or the key is a broker synonym of an
// applied topic key, or internal/config builds another setting from it
// (config.AppliedWithin) that the code outside reads. Every other key must be in
// config.NotApplied with the reason, which startup prints as a warning;
// and a key listed there must really not be applied.
func TestEveryConfigKeyIsAppliedOrDeclaredIgnored(t *testing.T) {
	root := moduleRoot(t)
	keys := map[string]bool{}
	for _, d := range append(config.BrokerDefs(), config.TopicDefs()...) {
		keys[d.Name] = true
	}
	fields := keyFields(t, filepath.Join(root, "internal/config"), keys)
	used := collectUses(t, root)
	applied := func(key string) bool {
		if used.literals[key] {
			return true
		}
		if carrier, ok := config.AppliedWithin(key); ok && used.selectors[carrier] {
			return true
		}
		for f := range fields[key] {
			if used.selectors[f] {
				return true
			}
		}
		return false
	}
	isApplied := map[string]bool{}
	for k := range keys {
		isApplied[k] = applied(k)
	}
	for _, d := range config.TopicDefs() {
		if isApplied[d.Name] {
			for _, s := range d.Synonyms {
				isApplied[s] = true
			}
		}
	}
	var missing, stale []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		_, ignored := config.NotApplied(k)
		switch {
		case isApplied[k] && ignored:
			stale = append(stale, k)
		case !isApplied[k] && !ignored:
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("accepted but not applied, and not in config.NotApplied (apply them, or list them there with the reason): %s", strings.Join(missing, " "))
	}
	if len(stale) > 0 {
		t.Errorf("listed in config.NotApplied but applied (take them off the list): %s", strings.Join(stale, " "))
	}
}

// keyFields maps each key to the struct fields internal/config fills from
// it.
func keyFields(t *testing.T, dir string, keys map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(key, field string) {
		if out[key] == nil {
			out[key] = map[string]bool{}
		}
		out[key][field] = true
	}
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for _, lhs := range n.Lhs {
					sel, ok := lhs.(*ast.SelectorExpr)
					if !ok {
						continue
					}
					for _, rhs := range n.Rhs {
						for _, k := range literalsIn(rhs) {
							if keys[k] {
								add(k, sel.Sel.Name)
							}
						}
					}
				}
			case *ast.CaseClause:
				var caseKeys []string
				for _, e := range n.List {
					for _, k := range literalsIn(e) {
						if keys[k] {
							caseKeys = append(caseKeys, k)
						}
					}
				}
				for _, st := range n.Body {
					as, ok := st.(*ast.AssignStmt)
					if !ok {
						continue
					}
					for _, lhs := range as.Lhs {
						if sel, ok := lhs.(*ast.SelectorExpr); ok {
							for _, k := range caseKeys {
								add(k, sel.Sel.Name)
							}
						}
					}
				}
			}
			return true
		})
	}
	return out
}

type uses struct{ literals, selectors map[string]bool }

// collectUses gathers the string literals and selected names of every
// non-test Go file of the module outside internal/config and the checks.
func collectUses(t *testing.T, root string) uses {
	u := uses{literals: map[string]bool{}, selectors: map[string]bool{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "internal/config", "internal/lint", "bench", "tests":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				u.selectors[n.Sel.Name] = true
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING {
					u.literals[s] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	entries, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range entries {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// literalsIn returns the string literals inside e.
func literalsIn(e ast.Node) []string {
	var out []string
	ast.Inspect(e, func(n ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// moduleRoot is the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
