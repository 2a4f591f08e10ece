package config

import (
	"strings"
	"testing"
)

// TestLoadWarnsAboutIgnoredKeys: a key Sluice accepts but ignores is a
// warning at startup that names it and says why.
func TestLoadWarnsAboutIgnoredKeys(t *testing.T) {
	_, warns, err := Load("", map[string]string{"num.io.threads": "16", "log.retention.ms": "1000"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	if len(warns) != 1 || warns[0].Key != "num.io.threads" || !strings.Contains(warns[0].Msg, "ignored") {
		t.Fatalf("warnings %q, want one about num.io.threads being ignored", got)
	}
}

// TestNotAppliedKeysAreKnown: every key listed as ignored is a key Sluice
// accepts.
func TestNotAppliedKeysAreKnown(t *testing.T) {
	for k := range notApplied {
		_, broker := BrokerDef(k)
		_, topic := TopicDef(k)
		if !broker && !topic {
			t.Errorf("%s is listed as ignored but is no config key", k)
		}
	}
	for k := range appliedWithin {
		if _, ok := BrokerDef(k); !ok {
			if _, ok := TopicDef(k); !ok {
				t.Errorf("%s is listed as applied within but is no config key", k)
			}
		}
	}
}
