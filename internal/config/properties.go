package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/value pair read from a .properties file.
type Property struct {
	Key   string
	Value string
	Line  int // first line of the logical line, 1-based
}

// maxPropertiesSize bounds what ParseProperties reads: a broker config is
// a few kilobytes, so anything past this is not a config file.
const maxPropertiesSize = 16 << 20

// ParseProperties reads Java .properties text, the format of Kafka's
// server.properties (java.util.Properties.load):
//
//   - lines end with \n, \r or \r\n; a line whose last character is an
//     unescaped backslash continues on the next line, whose leading
//     white space is dropped;
//   - blank lines and lines whose first non-blank character is # or ! are
//     skipped (a comment line never continues);
//   - the key runs to the first unescaped '=', ':' or white space; white
//     space around the separator is dropped; the value is the rest of the
//     line (trailing white space kept, as Java does; typed parsing trims);
//   - escapes: \t \n \r \f, \uXXXX (surrogate pairs joined), and \c for
//     any other c stands for c itself (so \: \= \# \space \\).
//
// Text is read as UTF-8 (Java's load(InputStream) reads ISO-8859-1; an
// ASCII file reads the same either way). A later duplicate key is kept as
// its own Property; callers let the last one win.
func ParseProperties(r io.Reader) ([]Property, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPropertiesSize+1))
	if err != nil {
		return nil, fmt.Errorf("read properties: %w", err)
	}
	if len(data) > maxPropertiesSize {
		return nil, fmt.Errorf("read properties: larger than %d bytes", maxPropertiesSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("read properties: not valid UTF-8")
	}
	var props []Property
	lines := naturalLines(string(data))
	for i := 0; i < len(lines); i++ {
		start := i
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines into one logical line.
		for endsWithContinuation(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsWithContinuation(line) { // continuation at end of file
			line = line[:len(line)-1]
		}
		key, value := splitKeyValue(line)
		k, err := unescape(key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start+1, err)
		}
		v, err := unescape(value)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start+1, err)
		}
		props = append(props, Property{Key: k, Value: v, Line: start + 1})
	}
	return props, nil
}

// naturalLines splits s on \n, \r and \r\n.
func naturalLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), maxPropertiesSize+1)
	sc.Split(scanNaturalLine)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func scanNaturalLine(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, c := range data {
		switch c {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // need to see whether \n follows
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// endsWithContinuation reports whether line ends in an odd number of
// backslashes.
func endsWithContinuation(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue splits a logical line (leading blanks removed) into its
// still-escaped key and value, as java.util.Properties does.
func splitKeyValue(line string) (key, value string) {
	keyLen, valueStart, hasSep := 0, len(line), false
	backslash := false
	for keyLen < len(line) {
		c := line[keyLen]
		if !backslash && (c == '=' || c == ':') {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if !backslash && (c == ' ' || c == '\t' || c == '\f') {
			valueStart = keyLen + 1
			break
		}
		backslash = c == '\\' && !backslash
		keyLen++
	}
	for valueStart < len(line) {
		c := line[valueStart]
		if c != ' ' && c != '\t' && c != '\f' {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	return line[:keyLen], line[valueStart:]
}

// unescape decodes the escapes of the properties format.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, n, err := decodeUnicodeEscape(s[i+1:])
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// decodeUnicodeEscape decodes the XXXX after a \u, and a following \uXXXX
// low surrogate when the first is a high surrogate. It returns the rune
// and how many bytes of s it used.
func decodeUnicodeEscape(s string) (rune, int, error) {
	r1, ok := hex4(s)
	if !ok {
		return 0, 0, fmt.Errorf(`malformed \uxxxx encoding`)
	}
	if utf16.IsSurrogate(r1) && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if r2, ok := hex4(s[6:]); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 10, nil
			}
		}
	}
	return r1, 4, nil
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
