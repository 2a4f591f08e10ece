"""confluent-kafka (librdkafka) consumers with
partition.assignment.strategy=cooperative-sticky against Sluice.

Usage: coop_sticky.py BOOTSTRAP TOPIC

Two consumers split a 6-partition topic; a third joins while records are
produced. The rebalance must be incremental: on_assign only adds partitions
a consumer does not own, on_revoke only takes partitions it owns, the two
first consumers keep at least one partition throughout and gain none, and
the third gets exactly what they gave up. Every record must be read exactly
once (a consumer commits what it read from a partition when it is revoked).
Prints "ok" and exits 0, or exits with a message on the first violation.
"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic = sys.argv[1:3]
PARTITIONS = 6
GROUP = 'coop'

admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]).values():
    f.result(timeout=30)

owned = {}      # consumer name -> set of partitions it owns now
events = []     # (consumer name, 'assign'|'revoke', partitions)
seen = {}       # record value -> names of the consumers that read it
consumers = {}


def fail(msg):
    sys.exit('%s\nevents: %s\nowned: %s' % (msg, events, owned))


def make(name):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': GROUP, 'client.id': name,
                  'partition.assignment.strategy': 'cooperative-sticky',
                  'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
                  'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500})
    owned[name] = set()

    def on_assign(consumer, parts):
        ps = {p.partition for p in parts}
        if ps & owned[name]:
            fail('%s was assigned %s but already owns %s: not incremental' % (name, sorted(ps), sorted(owned[name])))
        for other, theirs in owned.items():
            if other != name and ps & theirs:
                fail('%s was assigned %s while %s still owns %s' % (name, sorted(ps), other, sorted(theirs)))
        owned[name] |= ps
        events.append((name, 'assign', sorted(ps)))

    def on_revoke(consumer, parts):
        ps = {p.partition for p in parts}
        if not ps <= owned[name]:
            fail('%s had %s revoked but owns %s' % (name, sorted(ps), sorted(owned[name])))
        read = [tp for tp in consumer.position(parts) if tp.offset >= 0]
        if read:
            consumer.commit(offsets=read, asynchronous=False)
        owned[name] -= ps
        events.append((name, 'revoke', sorted(ps)))

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    consumers[name] = c


def poll_until(cond, what, timeout=60):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            fail('timed out waiting for ' + what)
        for name, c in consumers.items():
            for m in c.consume(num_messages=500, timeout=0.05):
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        fail('%s: %s' % (name, m.error()))
                    continue
                seen.setdefault(m.value().decode(), []).append(name)


def produce(lo, hi):
    p = Producer({'bootstrap.servers': bootstrap})
    for i in range(lo, hi):
        p.produce(topic, value=str(i).encode(), partition=i % PARTITIONS)
    if p.flush(30) != 0:
        fail('records left unflushed')


def all_read(n):
    return lambda: all(str(i) in seen for i in range(n))


def balanced(names, each):
    def cond():
        union = set().union(*(owned[n] for n in names))
        return union == set(range(PARTITIONS)) and all(len(owned[n]) == each for n in names)
    return cond


make('c1')
make('c2')
poll_until(balanced(['c1', 'c2'], 3), 'c1 and c2 to own 3 partitions each')
produce(0, 600)
poll_until(all_read(600), 'the first 600 records')

before = {n: set(ps) for n, ps in owned.items()}
mark = len(events)
make('c3')
produce(600, 1200)
poll_until(lambda: balanced(['c1', 'c2', 'c3'], 2)() and all_read(1200)(),
           'c3 to join (2 partitions each) and all 1200 records')

after = events[mark:]
given = set()
for name, kind, ps in after:
    if name in ('c1', 'c2') and kind == 'assign' and ps:
        fail('%s gained %s when c3 joined' % (name, ps))
    if name in ('c1', 'c2') and kind == 'revoke':
        given |= set(ps)
for n in ('c1', 'c2'):
    if not owned[n] < before[n]:
        fail('%s owns %s after c3 joined, before %s: want a strict subset' % (n, sorted(owned[n]), sorted(before[n])))
if owned['c3'] != given:
    fail('c3 owns %s, but c1 and c2 gave up %s' % (sorted(owned['c3']), sorted(given)))

dups = {v: who for v, who in seen.items() if len(who) > 1}
if dups:
    fail('records read more than once: %s' % sorted(dups.items())[:10])
if len(seen) != 1200:
    fail('read %d distinct records, want 1200' % len(seen))
for c in consumers.values():
    c.close()
print('ok')
