package metadata

import (
	"fmt"
	"maps"
	"slices"
)

// Apply returns the image that follows im after recs, committed at index.
// im itself is not modified. An inconsistent record (a partition of an
// unknown topic) is an error: the controller never writes one.
func (im *Image) Apply(index uint64, recs []Record) (*Image, error) {
	next := *im
	next.Index = index
	d := delta{im: &next}
	for i := range recs {
		if err := d.apply(&recs[i]); err != nil {
			return nil, fmt.Errorf("metadata record %d at index %d: %w", i, index, err)
		}
	}
	return &next, nil
}

// delta copies each top-level map of the image the first time it is
// changed, and each topic the first time one of its parts is.
type delta struct {
	im                       *Image
	brokers, topics, configs bool
	touched                  map[*Topic]bool
}

func (d *delta) ownTopics() {
	if !d.topics {
		d.im.Topics = maps.Clone(d.im.Topics)
		d.im.TopicIDs = maps.Clone(d.im.TopicIDs)
		d.topics = true
		d.touched = map[*Topic]bool{}
	}
}

// ownTopic returns a private copy of t that this delta may change.
func (d *delta) ownTopic(t *Topic) *Topic {
	d.ownTopics()
	if d.touched[t] {
		return t
	}
	c := *t
	c.Partitions = slices.Clone(t.Partitions)
	c.Configs = maps.Clone(t.Configs)
	d.im.Topics[c.Name] = &c
	d.im.TopicIDs[c.ID] = &c
	d.touched[&c] = true
	return &c
}

func (d *delta) apply(r *Record) error {
	switch {
	case r.Cluster != nil:
		d.im.ClusterID = r.Cluster.ClusterID
	case r.Broker != nil:
		if !d.brokers {
			d.im.Brokers = maps.Clone(d.im.Brokers)
			d.brokers = true
		}
		b := r.Broker
		epoch := int64(d.im.Index)
		if old := d.im.Brokers[b.ID]; old != nil && old.Incarnation == b.Incarnation {
			epoch = old.Epoch // the same process, fenced or unfenced
		}
		d.im.Brokers[b.ID] = &Broker{ID: b.ID, Host: b.Host, Port: b.Port, Rack: b.Rack, Fenced: b.Fenced,
			Incarnation: b.Incarnation, Epoch: epoch}
	case r.Topic != nil:
		d.ownTopics()
		if _, ok := d.im.Topics[r.Topic.Name]; ok {
			return fmt.Errorf("topic %q exists", r.Topic.Name)
		}
		if _, ok := d.im.TopicIDs[r.Topic.ID]; ok {
			return fmt.Errorf("topic id %s of %q exists", r.Topic.ID, r.Topic.Name)
		}
		t := &Topic{Name: r.Topic.Name, ID: r.Topic.ID, Configs: map[string]string{}}
		d.im.Topics[t.Name] = t
		d.im.TopicIDs[t.ID] = t
		d.touched[t] = true
	case r.Partition != nil:
		return d.applyPartition(r.Partition)
	case r.RemoveTopic != nil:
		t, ok := d.im.TopicIDs[r.RemoveTopic.ID]
		if !ok {
			return fmt.Errorf("remove unknown topic id %s", r.RemoveTopic.ID)
		}
		d.ownTopics()
		delete(d.im.Topics, t.Name)
		delete(d.im.TopicIDs, t.ID)
	case r.Config != nil:
		return d.applyConfig(r.Config)
	case r.ProducerIDs != nil:
		d.im.NextProducerID = r.ProducerIDs.NextID
	case r.Feature != nil:
		m := maps.Clone(d.im.Features)
		if m == nil {
			m = map[string]int16{}
		}
		m[r.Feature.Name] = r.Feature.Level
		d.im.Features = m
	default:
		return fmt.Errorf("empty record")
	}
	return nil
}

func (d *delta) applyPartition(p *PartitionRecord) error {
	t, ok := d.im.TopicIDs[p.TopicID]
	if !ok {
		return fmt.Errorf("partition %d of unknown topic id %s", p.Partition, p.TopicID)
	}
	t = d.ownTopic(t)
	part := Partition{Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Epoch: p.Epoch,
		Replicas: slices.Clone(p.Replicas), ISR: slices.Clone(p.ISR), ELR: slices.Clone(p.ELR), Recovering: p.Recovering}
	switch n := int(p.Partition); {
	case n < 0:
		return fmt.Errorf("partition %d of %q", n, t.Name)
	case n < len(t.Partitions):
		t.Partitions[n] = part
	case n == len(t.Partitions):
		t.Partitions = append(t.Partitions, part)
	default:
		return fmt.Errorf("partition %d of %q leaves a gap after %d", n, t.Name, len(t.Partitions))
	}
	return nil
}

func (d *delta) applyConfig(c *ConfigRecord) error {
	set := func(m map[string]string) {
		if c.Value == nil {
			delete(m, c.Key)
		} else {
			m[c.Key] = *c.Value
		}
	}
	switch c.ResourceType {
	case ResourceTopic:
		t, ok := d.im.Topics[c.ResourceName]
		if !ok {
			return fmt.Errorf("config of unknown topic %q", c.ResourceName)
		}
		set(d.ownTopic(t).Configs)
	case ResourceBroker:
		if !d.configs {
			d.im.BrokerConfigs = maps.Clone(d.im.BrokerConfigs)
			d.configs = true
		}
		m := maps.Clone(d.im.BrokerConfigs[c.ResourceName])
		if m == nil {
			m = map[string]string{}
		}
		set(m)
		d.im.BrokerConfigs[c.ResourceName] = m
	default:
		return fmt.Errorf("config of resource type %d", c.ResourceType)
	}
	return nil
}
