package handler_test

import (
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeLogDirs(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "dirs", 2, nil)
	a.createTopic(t, "other", 1, nil)
	a.produce(t, "dirs", 1, 5)

	all, err := a.adm.DescribeAllLogDirs(admCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := all.Sorted()
	abs, _ := filepath.Abs(a.dataDir)
	if len(dirs) != 1 || dirs[0].Broker != 1 || dirs[0].Dir != abs || dirs[0].Err != nil {
		t.Fatalf("dirs = %+v, want broker 1's %s", dirs, abs)
	}
	d := dirs[0]
	if d.TotalBytes <= 0 || d.UsableBytes < 0 || d.UsableBytes > d.TotalBytes {
		t.Errorf("total %d usable %d bytes", d.TotalBytes, d.UsableBytes)
	}
	sizes := map[string]int64{}
	d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
		sizes[p.Topic+"-"+string(rune('0'+p.Partition))] = p.Size
		if p.OffsetLag != 0 || p.IsFuture {
			t.Errorf("%s-%d: lag %d future %v", p.Topic, p.Partition, p.OffsetLag, p.IsFuture)
		}
	})
	if len(sizes) != 3 || sizes["dirs-1"] <= 0 || sizes["dirs-0"] != 0 {
		t.Errorf("partition sizes = %v", sizes)
	}

	// Only the partitions asked for; unknown ones are left out.
	req := kmsg.NewPtrDescribeLogDirsRequest()
	rt := kmsg.NewDescribeLogDirsRequestTopic()
	rt.Topic, rt.Partitions = "dirs", []int32{1, 7}
	req.Topics = append(req.Topics, rt)
	resp := a.request(t, req).(*kmsg.DescribeLogDirsResponse)
	if len(resp.Dirs) != 1 || len(resp.Dirs[0].Topics) != 1 || len(resp.Dirs[0].Topics[0].Partitions) != 1 ||
		resp.Dirs[0].Topics[0].Partitions[0].Partition != 1 {
		t.Fatalf("filtered dirs = %+v", resp.Dirs)
	}
}
