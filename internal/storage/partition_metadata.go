package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// partitionMetadataName is Kafka's per-partition topic id file (KIP-516).
const partitionMetadataName = "partition.metadata"

// encodePartitionMetadata renders Kafka's format:
//
//	version: 0
//	topic_id: <URL-safe base64 of the 16-byte id, no padding>
func encodePartitionMetadata(id model.TopicID) []byte {
	return fmt.Appendf(nil, "version: 0\ntopic_id: %s\n", id)
}

// parsePartitionMetadata decodes partition.metadata.
func parsePartitionMetadata(b []byte) (model.TopicID, error) {
	var id model.TopicID
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) != 2 {
		return id, fmt.Errorf("partition.metadata: %d lines, want 2", len(lines))
	}
	if v, ok := strings.CutPrefix(lines[0], "version: "); !ok || v != "0" {
		return id, fmt.Errorf("partition.metadata: unsupported version line %q", lines[0])
	}
	s, ok := strings.CutPrefix(lines[1], "topic_id: ")
	if !ok {
		return id, fmt.Errorf("partition.metadata: malformed line %q", lines[1])
	}
	id, err := model.ParseTopicID(strings.TrimSpace(s))
	if err != nil {
		return id, fmt.Errorf("partition.metadata: %w", err)
	}
	return id, nil
}

func writePartitionMetadata(dir string, id model.TopicID) error {
	return writeFileAtomic(dir, partitionMetadataName, encodePartitionMetadata(id))
}

// readPartitionMetadata returns the zero id when the file does not exist
// (Kafka tolerates logs created before topic ids).
func readPartitionMetadata(dir string) (model.TopicID, error) {
	b, err := readFile(filepath.Join(dir, partitionMetadataName))
	if os.IsNotExist(err) {
		return model.TopicID{}, nil
	}
	if err != nil {
		return model.TopicID{}, fmt.Errorf("read partition.metadata: %w", err)
	}
	return parsePartitionMetadata(b)
}
