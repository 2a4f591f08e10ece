package clientcmd

import "strings"

// Unescape interprets the backslash escapes a shell leaves in a --format or
// delimiter string: \n, \r, \t, \0 and \\. Any other escape is a UsageError
// naming flag, so a typo is not taken literally.
func Unescape(flag, s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return "", Usagef(`%s %q: trailing backslash (write \\ for a backslash)`, flag, s)
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		default:
			return "", Usagef(`%s %q: unknown escape \%c (allowed: \n \r \t \0 \\)`, flag, s, s[i])
		}
	}
	return b.String(), nil
}
