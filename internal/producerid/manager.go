// Package producerid hands out producer ids on a broker (KIP-730): ids
// come in blocks that the controller allocates through the metadata
// quorum, so no two brokers, and no two runs of one broker, ever give out
// the same id. The manager serves InitProducerId from its current block
// and asks for the next block when 90% of the current one is used, so
// InitProducerId seldom waits for the quorum (Kafka's
// RPCProducerIdManager does the same).
//
// The same code path serves one broker or many: in a single process the
// allocator is the local controller; a broker without a controller will
// plug in the AllocateProducerIds RPC.
package producerid

import (
	"context"
	"fmt"
	"sync"

	"github.com/sluice-io/sluice/internal/model"
)

// BlockSize is Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE.
const BlockSize = 1000

// Allocator returns the first id of a new block of count ids that belong
// to this broker alone (controller.AllocateProducerIDs).
type Allocator func(ctx context.Context, count int) (first int64, err error)

// Manager hands out producer ids. Safe for concurrent use.
type Manager struct {
	alloc     Allocator
	blockSize int64

	mu        sync.Mutex
	next, end int64         // current block: ids in [next, end) are free
	spare     [2]int64      // a prefetched block [first, end); spare[1] == 0 when none
	fetching  chan struct{} // non-nil while a block request runs; closed when it ends
}

// New returns a manager taking blocks of blockSize ids from alloc
// (BlockSize when blockSize <= 0).
func New(alloc Allocator, blockSize int) *Manager {
	if blockSize <= 0 {
		blockSize = BlockSize
	}
	return &Manager{alloc: alloc, blockSize: int64(blockSize)}
}

// Next returns a producer id never returned before. It waits for a block
// only when the current one is used up and no prefetched block is there;
// the caller that takes the id crossing 90% of a block fetches the next
// block before returning.
func (m *Manager) Next(ctx context.Context) (model.ProducerID, error) {
	m.mu.Lock()
	for {
		if m.next < m.end {
			id := m.next
			m.next++
			prefetch := m.fetching == nil && m.spare[1] == 0 && m.end-m.next <= m.blockSize/10
			if prefetch {
				m.fetching = make(chan struct{})
			}
			m.mu.Unlock()
			if prefetch {
				m.fetch(ctx) // an error here is retried when the block runs out
			}
			return model.ProducerID(id), nil
		}
		if m.spare[1] != 0 {
			m.next, m.end = m.spare[0], m.spare[1]
			m.spare = [2]int64{}
			continue
		}
		if ch := m.fetching; ch != nil {
			m.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return -1, ctx.Err()
			}
			m.mu.Lock()
			continue // a failed request is retried by this caller, with its own ctx
		}
		m.fetching = make(chan struct{})
		m.mu.Unlock()
		if err := m.fetch(ctx); err != nil {
			return -1, err
		}
		m.mu.Lock()
	}
}

// fetch asks for a block and stores it as the spare. The caller set
// m.fetching; fetch clears and closes it.
func (m *Manager) fetch(ctx context.Context) error {
	first, err := m.alloc(ctx, int(m.blockSize))
	if err != nil {
		err = fmt.Errorf("allocate producer id block: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		m.spare = [2]int64{first, first + m.blockSize}
	}
	close(m.fetching)
	m.fetching = nil
	return err
}
