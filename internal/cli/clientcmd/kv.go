package clientcmd

import "strings"

// ParseKeyValue splits s, the value of flag (e.g. "--config"), at its first
// '=' into a non-empty key and a value (which may be empty or hold '=').
func ParseKeyValue(flag, s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return "", "", Usagef("%s %q: want key=value", flag, s)
	}
	return key, value, nil
}

// ParseConfigs parses repeated key=value values of flag into a map. A key
// given twice is a UsageError, so a typo cannot silently override a value.
func ParseConfigs(flag string, kvs []string) (map[string]string, error) {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, err := ParseKeyValue(flag, kv)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, Usagef("%s: key %q given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}
