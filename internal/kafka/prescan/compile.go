package prescan

import (
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// program is a struct's layout at one version, ready for the walk.
type program struct {
	body     []op
	tags     []*op // by tag number; nil where the struct has no such tag
	flexible bool  // a tag section follows the body
	min      int   // the fewest bytes the struct encodes in
	goSize   int64 // bytes of the decoded Go struct
}

// op reads one field.
type op struct {
	kind     kind
	compact  bool     // uvarint lengths (a flexible version)
	nullable bool     // kString: a negative length is null; kStruct: an int8 presence marker precedes
	sub      *program // kStruct
	elem     *op      // kArray
	min      int      // the fewest bytes the field encodes in
	fixed    int      // the field always encodes in this many bytes; 0: it varies
	goSize   int64    // bytes the decoded value takes in Go (an array's element, a nullable struct)
}

// programs holds every request's program by key and version.
var programs = compileAll()

// missedGoTypes counts fields whose kmsg Go type was not found by name,
// whose Go size is then estimated (a test keeps it at zero).
var missedGoTypes int

func compileAll() [][]*program {
	var all [][]*program
	for key, m := range requests {
		for int(key) >= len(all) {
			all = append(all, nil)
		}
		var rt reflect.Type
		if req := kmsg.RequestForKey(key); req != nil {
			rt = reflect.TypeOf(req).Elem()
		}
		progs := make([]*program, m.maxVersion+1)
		for v := int16(0); v <= m.maxVersion; v++ {
			flexible := m.flexibleFrom >= 0 && v >= m.flexibleFrom
			progs[v] = compileStruct(m.fields, v, flexible, m.flexibleFrom >= 0, rt)
		}
		all[key] = progs
	}
	return all
}

// compileStruct lays out fields at version v. fromFlexible: the struct
// (and so its strings, bytes and arrays) is compact in flexible versions.
func compileStruct(fields []field, v int16, flexible, fromFlexible bool, rt reflect.Type) *program {
	p := &program{flexible: flexible && fromFlexible}
	if rt != nil {
		p.goSize = int64(rt.Size())
	} else {
		p.goSize = estimateGoSize(fields)
	}
	compact := flexible && fromFlexible
	for i := range fields {
		f := &fields[i]
		var ft reflect.Type
		if rt != nil {
			if sf, ok := rt.FieldByName(f.name); ok {
				ft = sf.Type
			} else {
				missedGoTypes++
			}
		}
		o := compileField(f, v, flexible, compact, ft)
		if f.tag >= 0 && p.flexible {
			for int(f.tag) >= len(p.tags) {
				p.tags = append(p.tags, nil)
			}
			p.tags[f.tag] = o
		}
		if f.inBody(v) {
			p.min += o.min
			if n := len(p.body); n > 0 && o.fixed > 0 && p.body[n-1].kind == kFixed {
				p.body[n-1].fixed += o.fixed // one skip for a run of fixed-size fields
				p.body[n-1].min += o.fixed
				continue
			}
			if o.fixed > 0 {
				o = &op{kind: kFixed, min: o.fixed, fixed: o.fixed}
			}
			p.body = append(p.body, *o)
		}
	}
	if p.flexible {
		p.min++ // the tag count
	}
	return p
}

// fixedSize is the bytes p always encodes in, or 0 if that varies.
func (p *program) fixedSize() int {
	if p.flexible {
		return 0
	}
	n := 0
	for i := range p.body {
		if p.body[i].fixed == 0 {
			return 0
		}
		n += p.body[i].fixed
	}
	return n
}

func compileField(f *field, v int16, flexible, compact bool, ft reflect.Type) *op {
	o := &op{kind: f.kind, compact: compact}
	switch f.kind {
	case kString:
		o.nullable = f.nullableSince >= 0 && v >= f.nullableSince
		o.min = lenSize(compact, 2)
		if f.nullableSince >= 0 {
			o.goSize = 16 // kmsg allocates a *string's target
		}
	case kBytes, kNullableBytes:
		o.min = lenSize(compact, 4)
	case kVarint, kVarlong, kVarintBytes:
		o.min = 1
	case kArray:
		var et reflect.Type
		if ft != nil && ft.Kind() == reflect.Slice {
			et = ft.Elem()
		} else if ft != nil {
			missedGoTypes++
		}
		o.elem = compileField(f.elem, v, flexible, compact, et)
		if et != nil {
			o.elem.goSize = int64(et.Size())
		} else {
			o.elem.goSize = estimateElemGoSize(f.elem)
		}
		o.min = lenSize(compact, 4)
	case kStruct:
		st := ft
		if st != nil && st.Kind() == reflect.Pointer {
			st = st.Elem()
		}
		if st != nil && st.Kind() != reflect.Struct {
			missedGoTypes++
			st = nil
		}
		o.sub = compileStruct(f.fields, v, flexible, f.fromFlexible, st)
		o.nullable = f.nullable
		o.goSize = o.sub.goSize
		o.min = o.sub.min
		if f.nullable {
			o.min = 1
		} else {
			o.fixed = o.sub.fixedSize()
		}
	default:
		o.min = f.kind.fixedSize()
		o.fixed = o.min
		o.goSize = int64(o.min)
	}
	return o
}

func lenSize(compact bool, classic int) int {
	if compact {
		return 1
	}
	return classic
}

// estimateGoSize guesses a struct's Go size when kmsg's type is unknown:
// a word or more per field and a map for unknown tags.
func estimateGoSize(fields []field) int64 {
	n := int64(8)
	for i := range fields {
		n += estimateElemGoSize(&fields[i])
	}
	return n
}

func estimateElemGoSize(f *field) int64 {
	switch f.kind {
	case kString:
		return 16
	case kBytes, kNullableBytes, kVarintBytes, kArray:
		return 24
	case kStruct:
		if f.nullable {
			return 8
		}
		return estimateGoSize(f.fields)
	}
	return 8
}
