package metadata

// The journal: the latest committed entries a publisher applied, kept so
// that brokers which are not voters of the quorum can follow the metadata
// log from a voter (MetadataFetch on the controller listener): a broker
// asks for the entries after the index it applied and gets them in order,
// or, when it is too far behind (the entries it needs were dropped from
// the journal), the whole image to restore from.

// Entry is one committed metadata entry: its raft index and payload (an
// encoded []Record, EncodeEntry).
type Entry struct {
	Index uint64
	Data  []byte
}

// journalCap bounds the entries kept: a follower further behind restores
// from the image, which costs about as much as replaying that many.
const journalCap = 4096

// journal is a ring of the latest entries; guarded by Publisher.mu.
type journal struct {
	entries []Entry // oldest first; at most journalCap
	// floor is the index before the oldest entry: a follower that applied
	// at least floor can continue from the entries; one below restores.
	floor uint64
}

func (j *journal) add(e Entry) {
	if len(j.entries) == journalCap {
		j.floor = j.entries[0].Index
		copy(j.entries, j.entries[1:])
		j.entries = j.entries[:journalCap-1]
	}
	j.entries = append(j.entries, e)
}

// reset empties the journal after a restore to index.
func (j *journal) reset(index uint64) {
	j.entries, j.floor = j.entries[:0], index
}

// after returns the entries with an index above from, up to about
// maxBytes of payload (at least one), and ok=false when from is below the
// floor (the entries after it are gone).
func (j *journal) after(from uint64, maxBytes int) ([]Entry, bool) {
	if from < j.floor {
		return nil, false
	}
	i := len(j.entries)
	for i > 0 && j.entries[i-1].Index > from {
		i--
	}
	var out []Entry
	size := 0
	for _, e := range j.entries[i:] {
		if len(out) > 0 && size+len(e.Data) > maxBytes {
			break
		}
		out = append(out, e)
		size += len(e.Data)
	}
	return out, true
}

// Follow reads what a broker that applied up to index from needs next:
// the committed entries after it (at most about maxBytes of them), or,
// when those are no longer kept, the current image to restore from
// (entries nil, im set). Both empty means nothing new: wait on Changed.
func (p *Publisher) Follow(from uint64, maxBytes int) (entries []Entry, im *Image) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.cur.Load()
	if from >= cur.Index {
		return nil, nil
	}
	es, ok := p.journal.after(from, maxBytes)
	if !ok {
		return nil, cur
	}
	return es, nil
}
