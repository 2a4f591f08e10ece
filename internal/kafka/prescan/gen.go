//go:build ignore

// gen writes schema_gen.go: the wire layout of every Kafka request kmsg
// decodes, read from the DSL that kmsg itself is generated from
// (generate/definitions in the franz-go module this module requires).
// Run it with `go generate ./internal/kafka/prescan` after a franz-go
// upgrade; TestSchemaMatchesKmsg fails until then.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type field struct {
	name          string
	kind          string // a Go constant name in prescan: kInt32, kString, kArray, kStruct...
	since, until  int    // versions [since, until); until 0: no last version
	tag           int    // -1: not tagged
	nullableSince int    // strings: the first version that may be null
	elem          *field // arrays: the element
	fields        []field
	nullable      bool // structs: an int8 presence marker precedes
	fromFlexible  bool // structs: encoded compactly in flexible versions
}

type request struct {
	key, max, flexible int
	name               string
	fields             []field
}

var (
	enums  = map[string]string{} // enum name -> backing primitive
	named  = map[string]field{}  // "not top level" structs
	reqs   []request
	prims  = map[string]string{"bool": "kBool", "int8": "kInt8", "int16": "kInt16", "uint16": "kUint16", "int32": "kInt32", "uint32": "kUint32", "int64": "kInt64", "float64": "kFloat64", "varint": "kVarint", "varlong": "kVarlong", "uuid": "kUUID", "string": "kString", "nullable-string": "kString", "bytes": "kBytes", "nullable-bytes": "kNullableBytes", "varint-string": "kVarintBytes", "varint-bytes": "kVarintBytes"}
	verRe  = regexp.MustCompile(`^ // (?:v(\d+)(?:\+|-v(\d+))(?:, tag (\d+))?|tag (\d+))$`)
	specRe = regexp.MustCompile(`^(ThrottleMillis|TimeoutMillis)(?:\(\d+\))?(?: // v(\d+)\+)?$`)
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/twmb/franz-go").Output()
	if err != nil {
		die("locate franz-go: %v", err)
	}
	dirVer := strings.Fields(string(out))
	defs := filepath.Join(dirVer[0], "generate", "definitions")
	raw, err := os.ReadFile(filepath.Join(defs, "enums"))
	if err != nil {
		die("%v", err)
	}
	parseEnums(string(raw))
	files, _ := filepath.Glob(filepath.Join(defs, "[0-9]*"))
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			die("%v", err)
		}
		parseFile(filepath.Base(f), string(raw))
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].key < reqs[j].key })
	write("franz-go " + dirVer[1])
}

var enumRe = regexp.MustCompile(`^([A-Za-z]+) ([a-z0-9]+) (?:camelcase )?\($`)

func parseEnums(raw string) {
	for _, line := range strings.Split(raw, "\n") {
		if m := enumRe.FindStringSubmatch(line); m != nil {
			enums[m[1]] = m[2]
		}
	}
}

// parseFile parses the definition blocks of one file: a header line, then
// indented fields, then a blank line.
func parseFile(name, raw string) {
	lines := strings.Split(raw, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		j := i + 1
		for j < len(lines) && lines[j] != "" {
			j++
		}
		block := lines[i+1 : j]
		i = j
		switch {
		case strings.Contains(line, " => not top level"):
			n := line[:strings.Index(line, " => ")]
			flex := strings.Contains(line, "flexible v")
			fs, _ := parseFields(name, block, 0, flex)
			named[n] = field{kind: "kStruct", fields: fs, fromFlexible: flex}
		case strings.HasSuffix(line, "Response =>"):
			// responses are not decoded by a broker
		case strings.Contains(line, "Request => key "):
			r := request{name: strings.TrimSuffix(line[:strings.Index(line, " => ")], "Request"), flexible: -1}
			for _, part := range strings.Split(line[strings.Index(line, " => ")+4:], ", ") {
				switch {
				case strings.HasPrefix(part, "key "):
					r.key = atoi(part[4:])
				case strings.HasPrefix(part, "max version "):
					r.max = atoi(part[12:])
				case strings.HasPrefix(part, "flexible v"):
					r.flexible = atoi(strings.TrimSuffix(part[10:], "+"))
				}
			}
			r.fields, _ = parseFields(name, block, 0, r.flexible >= 0)
			reqs = append(reqs, r)
		default:
			die("%s: unknown definition %q", name, line)
		}
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		die("number %q: %v", s, err)
	}
	return n
}

// parseFields parses the fields at one indentation level and returns them
// with the lines it consumed.
func parseFields(file string, lines []string, level int, flex bool) ([]field, int) {
	indent := strings.Repeat(" ", 2*(level+1))
	var fs []field
	i := 0
	for i < len(lines) {
		line := lines[i]
		if !strings.HasPrefix(line, indent) || line[len(indent)] == ' ' {
			if strings.HasPrefix(line, indent) {
				die("%s: unexpected indentation %q", file, line)
			}
			return fs, i // the enclosing struct is done
		}
		line = line[len(indent):]
		i++
		if strings.HasPrefix(line, "//") {
			continue
		}
		if m := specRe.FindStringSubmatch(line); m != nil && !strings.Contains(line, ": ") {
			f := field{name: m[1], kind: "kInt32", tag: -1}
			if m[2] != "" {
				f.since = atoi(m[2])
			}
			fs = append(fs, f)
			continue
		}
		colon := strings.Index(line, ": ")
		if colon < 0 {
			die("%s: field %q", file, line)
		}
		f := field{name: line[:colon], tag: -1}
		typ := line[colon+2:]
		if idx := strings.Index(typ, " // "); idx >= 0 {
			m := verRe.FindStringSubmatch(typ[idx:])
			if m == nil {
				die("%s: version comment %q", file, typ[idx:])
			}
			switch {
			case m[4] != "":
				f.tag, f.since = atoi(m[4]), -1
			default:
				f.since = atoi(m[1])
				if m[2] != "" {
					f.until = atoi(m[2]) + 1
				}
				if m[3] != "" {
					die("%s: field %s is both versioned and tagged; the walker does not know how kmsg reads that", file, f.name)
				}
			}
			typ = typ[:idx]
		}
		if p := strings.IndexByte(typ, '('); p >= 0 { // a default value
			typ = typ[:p] + typ[strings.IndexByte(typ, ')')+1:]
		}
		isArray := strings.Contains(typ, "[")
		if isArray {
			switch {
			case strings.HasPrefix(typ, "varint["):
				die("%s: varint arrays are not expected in requests", file)
			case strings.HasPrefix(typ, "nullable"):
				typ = typ[strings.IndexByte(typ, '['):]
			}
			if strings.Count(typ, "[") != 1 {
				die("%s: nested arrays are not expected in requests: %q", file, line)
			}
			typ = typ[1 : len(typ)-1]
		}
		var t field
		switch {
		case strings.HasPrefix(typ, "=>") || strings.HasPrefix(typ, "nullable=>"):
			inner, n := parseFields(file, lines[i:], level+1, flex)
			i += n
			t = field{kind: "kStruct", fields: inner, nullable: strings.HasPrefix(typ, "nullable"), fromFlexible: flex}
		case strings.HasPrefix(typ, "nullable-string-v"):
			t = field{kind: "kString", nullableSince: atoi(strings.TrimSuffix(typ[len("nullable-string-v"):], "+"))}
		case strings.HasPrefix(typ, "enum-"):
			backing, ok := enums[typ[5:]]
			if !ok {
				die("%s: unknown enum %q", file, typ)
			}
			t = field{kind: prims[backing]}
		case strings.HasPrefix(typ, "length-field-minus"):
			die("%s: length-field-minus is not expected in requests", file)
		default:
			if k, ok := prims[typ]; ok {
				t = field{kind: k}
				switch typ {
				case "string":
					t.nullableSince = -1
				}
			} else if s, ok := named[typ]; ok {
				t = s
			} else {
				die("%s: unknown type %q", file, typ)
			}
		}
		if t.kind == "kString" && typ == "nullable-string" {
			t.nullableSince = 0
		}
		if isArray {
			elem := t
			elem.tag = -1
			f.kind, f.elem = "kArray", &elem
		} else {
			f.kind, f.fields, f.nullable, f.fromFlexible, f.nullableSince = t.kind, t.fields, t.nullable, t.fromFlexible, t.nullableSince
		}
		fs = append(fs, f)
	}
	return fs, i
}

func write(source string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gen.go from %s generate/definitions; DO NOT EDIT.\n\npackage prescan\n\n", source)
	b.WriteString("// requests is the wire layout of every request, by API key.\n")
	b.WriteString("var requests = map[int16]*message{\n")
	for _, r := range reqs {
		fmt.Fprintf(&b, "%d: {name: %q, maxVersion: %d, flexibleFrom: %d, fields: ", r.key, r.name, r.max, r.flexible)
		writeFields(&b, r.fields)
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		os.WriteFile("schema_gen.go", b.Bytes(), 0o644)
		die("format: %v", err)
	}
	if err := os.WriteFile("schema_gen.go", src, 0o644); err != nil {
		die("%v", err)
	}
}

func writeFields(b *bytes.Buffer, fs []field) {
	b.WriteString("[]field{\n")
	for _, f := range fs {
		b.WriteString("{")
		writeField(b, f)
		b.WriteString("},\n")
	}
	b.WriteString("}")
}

func writeField(b *bytes.Buffer, f field) {
	if f.name != "" {
		fmt.Fprintf(b, "name: %q, ", f.name)
	}
	fmt.Fprintf(b, "kind: %s", f.kind)
	if f.since != 0 {
		fmt.Fprintf(b, ", since: %d", f.since)
	}
	if f.until != 0 {
		fmt.Fprintf(b, ", until: %d", f.until)
	}
	if f.name != "" {
		fmt.Fprintf(b, ", tag: %d", f.tag)
	}
	if f.kind == "kString" && f.nullableSince != -1 {
		fmt.Fprintf(b, ", nullableSince: %d", f.nullableSince)
	} else if f.kind == "kString" {
		b.WriteString(", nullableSince: -1")
	}
	if f.nullable {
		b.WriteString(", nullable: true")
	}
	if f.fromFlexible {
		b.WriteString(", fromFlexible: true")
	}
	if f.elem != nil {
		b.WriteString(", elem: &field{")
		writeField(b, *f.elem)
		b.WriteString("}")
	}
	if f.kind == "kStruct" {
		b.WriteString(", fields: ")
		writeFields(b, f.fields)
	}
}
