package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// Leader epoch checkpoints written by the append path (KAFKA-15046).
//
// The first batch of a new leader epoch adds an entry to the leader epoch
// cache. Replacing leader-epoch-checkpoint durably right there (an fsync
// of the file and one of the directory) held the connection's reader for
// milliseconds per partition, so after a leader change a produce naming
// many partitions stalled for one durable file replace per partition
// (issue 5: the first ~50 ms of every benchmark run). As Kafka does since
// KAFKA-15046, the append path replaces the file without fsync and the
// next group-commit round fsyncs it, and the directory, before it
// publishes a durable offset: an acks=all answer still implies the epoch
// entry is on stable storage, and a process crash loses nothing (the page
// cache survives it). A power loss before that round may lose the entry
// together with the unsynced batches it describes; recovery then treats
// the file as it treats a missing one.

// persistEpochsLazilyLocked replaces the checkpoint without fsync and
// leaves the fsync to the next sync round. Called under mu.
func (l *Log) persistEpochsLazilyLocked() error {
	if err := writeFileReplace(l.dir, leaderEpochCheckpointName, l.epochs.encode()); err != nil {
		return err
	}
	l.epochsDirty = true
	l.dirDirty = true
	return nil
}

// syncEpochCheckpoint fsyncs the checkpoint file (a sync round, outside
// mu; a concurrent replace marks it dirty again for the next round).
func (l *Log) syncEpochCheckpoint() error {
	f, err := openFile(filepath.Join(l.dir, leaderEpochCheckpointName), os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", leaderEpochCheckpointName, err)
	}
	err = l.fsync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", leaderEpochCheckpointName, err)
	}
	return nil
}

// writeFileReplace replaces name in dir with data through a .tmp file and
// a rename, without fsync: readers and a restart after a process crash
// see the old or the new content, never a torn one.
func writeFileReplace(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + tmpSuffix
	err := writeFile(tmp, data, 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
