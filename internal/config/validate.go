package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// parseType checks that v (trimmed) is a value of type t and returns the
// reason it is not, in Kafka's words, or "".
func parseType(t Type, v string) string {
	switch t {
	case TypeBoolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return "Expected value to be either true or false"
		}
	case TypeInt:
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return "Not a number of type INT"
		}
	case TypeShort:
		if _, err := strconv.ParseInt(v, 10, 16); err != nil {
			return "Not a number of type SHORT"
		}
	case TypeLong:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return "Not a number of type LONG"
		}
	case TypeDouble:
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) {
			return "Not a number of type DOUBLE"
		}
	}
	return ""
}

// splitList splits a LIST value as Kafka does: trimmed, split on commas
// with the whitespace around them; "" is the empty list.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// canonical renders a value that passed parseType as Kafka prints the
// parsed value.
func canonical(t Type, v string) string {
	v = strings.TrimSpace(v)
	switch t {
	case TypeBoolean:
		return strings.ToLower(v)
	case TypeInt, TypeShort, TypeLong:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v
		}
		return strconv.FormatInt(n, 10)
	case TypeDouble:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return v
		}
		return formatDouble(f)
	case TypeList:
		return strings.Join(splitList(v), ",")
	}
	return v
}

// formatDouble prints f as Java's Double.toString does: at least one
// digit after the point, and E notation outside [1e-3, 1e7).
func formatDouble(f float64) string {
	if math.IsInf(f, 0) {
		if f > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	abs := math.Abs(f)
	if abs == 0 || (abs >= 1e-3 && abs < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.5E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}

func parseInt(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}

func parseBool(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

func parseDouble(v string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f
}

// atLeast is Kafka's Range.atLeast for INT, SHORT and LONG keys.
func atLeast(min int64) func(string) error {
	return func(v string) error {
		if parseInt(v) < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		return nil
	}
}

// between is Kafka's Range.between for integer keys.
func between(min, max int64) func(string) error {
	return func(v string) error {
		n := parseInt(v)
		if n < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		if n > max {
			return fmt.Errorf("Value must be no more than %d", max)
		}
		return nil
	}
}

// ratio accepts a DOUBLE in [0, 1].
func ratio(v string) error {
	f := parseDouble(v)
	if f < 0 {
		return errors.New("Value must be at least 0")
	}
	if f > 1 {
		return errors.New("Value must be no more than 1")
	}
	return nil
}

// levelOrDefault accepts [min, max] or -1 (the codec's own default).
func levelOrDefault(min, max int64) func(string) error {
	return func(v string) error {
		n := parseInt(v)
		if n != -1 && (n < min || n > max) {
			return fmt.Errorf("Value must be in [%d,...,%d] or -1", min, max)
		}
		return nil
	}
}

// oneOf is Kafka's ValidString.in: case-sensitive.
func oneOf(valid ...string) func(string) error {
	msg := "String must be one of: " + strings.Join(valid, ", ")
	return func(v string) error {
		for _, s := range valid {
			if v == s {
				return nil
			}
		}
		return errors.New(msg)
	}
}

// listOf is Kafka's ValidList.in: every element must be one of valid.
// nonEmpty also refuses the empty list.
func listOf(nonEmpty bool, valid ...string) func(string) error {
	in := oneOf(valid...)
	return func(v string) error {
		elems := splitList(v)
		if nonEmpty && len(elems) == 0 {
			return errors.New("Empty list is not allowed")
		}
		for _, e := range elems {
			if err := in(e); err != nil {
				return elemError{elem: e, reason: err.Error()}
			}
		}
		return nil
	}
}

// nonEmptyUniqueList refuses an empty list, empty elements and duplicates
// (log.dirs, listeners).
func nonEmptyUniqueList(v string) error {
	elems := splitList(v)
	if len(elems) == 0 {
		return errors.New("Empty list is not allowed")
	}
	return uniqueList(v)
}

// uniqueList refuses empty elements and duplicates.
func uniqueList(v string) error {
	seen := make(map[string]bool)
	for _, e := range splitList(v) {
		if e == "" {
			return errors.New("Empty list element is not allowed")
		}
		if seen[e] {
			return elemError{elem: v, reason: "Duplicate value " + e + " is not allowed"}
		}
		seen[e] = true
	}
	return nil
}

var throttledReplica = regexp.MustCompile(`^[0-9]+:[0-9]+$`)

// throttledReplicas accepts "*" or a list of partition:broker pairs.
func throttledReplicas(v string) error {
	elems := splitList(v)
	if len(elems) == 1 && elems[0] == "*" {
		return nil
	}
	for _, e := range elems {
		if !throttledReplica.MatchString(e) {
			return errors.New("Must be the wildcard (*) or a list of [partitionId]:[brokerId] pairs")
		}
	}
	return nil
}

// hostPort accepts "host:port" with a port in [0, 65535].
func hostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("Expected host:port (%v)", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("Port must be a number in [0, 65535]")
	}
	return nil
}

// hostPortList accepts a list of host:port.
func hostPortList(v string) error {
	for _, e := range splitList(v) {
		if err := hostPort(e); err != nil {
			return elemError{elem: e, reason: err.Error()}
		}
	}
	return uniqueList(v)
}

// idleCloseMs accepts -1 (never) or at least a second: a janitor ticking
// faster costs CPU for no descriptor saved.
func idleCloseMs(v string) error {
	if n := parseInt(v); n != -1 && n < 1000 {
		return errors.New("Value must be -1 or at least 1000")
	}
	return nil
}

// nonEmpty refuses an empty string.
func nonEmpty(v string) error {
	if v == "" {
		return errors.New("Value must not be empty")
	}
	return nil
}

// optionalHostPort accepts "" (off) or host:port.
func optionalHostPort(v string) error {
	if v == "" {
		return nil
	}
	return hostPort(v)
}
