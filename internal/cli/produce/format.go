package produce

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// field is a placeholder of an input format.
type field byte

const (
	fieldKey     field = 'k'
	fieldValue   field = 'v'
	fieldHeaders field = 'h'
)

// Format is a compiled input format. It is immutable and safe for
// concurrent use.
type Format struct {
	lead   []byte   // literal text every record starts with
	fields []field  // placeholders, in order
	seps   [][]byte // seps[i] ends fields[i]; the last one ends the record
}

// ParseFormat compiles a --format value (flag names it in errors).
func ParseFormat(flag, s string) (*Format, error) {
	s, err := clientcmd.Unescape(flag, s)
	if err != nil {
		return nil, err
	}
	f := &Format{}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return nil, clientcmd.Usagef("%s %q: trailing %% (write %%%% for a percent sign)", flag, s)
		}
		i++
		switch fd := field(s[i]); fd {
		case '%':
			lit.WriteByte('%')
		case fieldKey, fieldValue, fieldHeaders:
			if err := f.addField(flag, s, fd, lit.String()); err != nil {
				return nil, err
			}
			lit.Reset()
		default:
			return nil, clientcmd.Usagef("%s %q: unknown placeholder %%%c (allowed: %%k %%v %%h %%%%)", flag, s, s[i])
		}
	}
	if err := f.finish(flag, s, lit.String()); err != nil {
		return nil, err
	}
	return f, nil
}

// addField appends fd, preceded by the literal text lit.
func (f *Format) addField(flag, s string, fd field, lit string) error {
	for _, have := range f.fields {
		if have == fd {
			return clientcmd.Usagef("%s %q: %%%c appears twice", flag, s, fd)
		}
	}
	if len(f.fields) == 0 {
		f.lead = []byte(lit)
	} else if lit == "" {
		return clientcmd.Usagef("%s %q: %%%c directly follows %%%c; put a delimiter between them", flag, s, fd, f.fields[len(f.fields)-1])
	} else {
		f.seps = append(f.seps, []byte(lit))
	}
	f.fields = append(f.fields, fd)
	return nil
}

// finish sets the record delimiter (lit, or "\n") and checks for %v.
func (f *Format) finish(flag, s, lit string) error {
	if !f.has(fieldValue) {
		return clientcmd.Usagef("%s %q: no %%v: a format must say where the value is", flag, s)
	}
	if lit == "" {
		lit = "\n"
	}
	f.seps = append(f.seps, []byte(lit))
	return nil
}

func (f *Format) has(fd field) bool {
	for _, have := range f.fields {
		if have == fd {
			return true
		}
	}
	return false
}

// Delimiter returns the text that ends a record.
func (f *Format) Delimiter() []byte { return f.seps[len(f.seps)-1] }

// parts are the texts of one record's fields; they alias the record text.
type parts struct {
	key, value, headers []byte
}

// Split cuts one record's text (without its delimiter) into its fields.
func (f *Format) Split(rec []byte) (parts, error) {
	var p parts
	if !bytes.HasPrefix(rec, f.lead) {
		return p, fmt.Errorf("does not start with %q", f.lead)
	}
	rest := rec[len(f.lead):]
	last := len(f.fields) - 1
	for i, fd := range f.fields {
		text := rest
		if i < last {
			j := bytes.Index(rest, f.seps[i])
			if j < 0 {
				return p, fmt.Errorf("no %q after the %s", f.seps[i], fd.name())
			}
			text, rest = rest[:j], rest[j+len(f.seps[i]):]
		}
		switch fd {
		case fieldKey:
			p.key = text
		case fieldValue:
			p.value = text
		case fieldHeaders:
			p.headers = text
		}
	}
	return p, nil
}

func (fd field) name() string {
	switch fd {
	case fieldKey:
		return "key"
	case fieldValue:
		return "value"
	}
	return "headers"
}
