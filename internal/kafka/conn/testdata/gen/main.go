// Command gen writes the seed corpus of FuzzDecodeRequest: one valid
// request frame per served API at its lowest, middle and highest version.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func main() {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeRequest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("fuzz"))
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		max := req.MaxVersion()
		for _, v := range []int16{0, max / 2, max} {
			req.SetVersion(v)
			frame := f.AppendRequest(nil, req, 42)[4:]
			name := filepath.Join(dir, fmt.Sprintf("%02d_%s_v%d", key, kmsg.NameForKey(key), v))
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", frame)
			if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
				panic(err)
			}
		}
	}
}
