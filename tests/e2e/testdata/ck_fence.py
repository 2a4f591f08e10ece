"""Transactional producer fencing with confluent-kafka, driven by the e2e
tests.

Usage: ck_fence.py BOOTSTRAP TOPIC
p1 commits "p1-before-0..4" to partition 0, then begins a transaction and
delivers "p1-open-0..4" to partition 0 without ending it. p2, with the same
transactional.id, calls init_transactions (which fences p1 and aborts its
open transaction) and commits "p2-0..4" to partitions 0 and 1. p1 then
writes "p1-after-0..2" to partition 0 (in its transaction as p1 sees it,
so the records go to the broker at once), "p1-after-3..4" to partition 1
(new to its transaction) and tries to commit. Prints one JSON object:
  {"delivery_errors": [names], "produce_errors": [names raised by produce],
   "commit_error": name or null, "commit_fatal": bool,
   "fatal_errors": [names reported to error_cb]}
"""
import json
import sys

from confluent_kafka import KafkaException, Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
delivery_errors, fatal_errors, produce_errors = [], [], []


def on_delivery(err, msg):
    if err is not None:
        delivery_errors.append(err.name())


def on_error(err):
    if err.fatal():
        fatal_errors.append(err.name())


def producer():
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'fenced',
                  'linger.ms': 0, 'error_cb': on_error})
    p.init_transactions(30)
    return p


def write(p, values, partitions):
    """Produces values and waits for their delivery reports. A produce
    refused at once (the producer already knows it is fenced, which
    depends on how fast an earlier record's answer came back) is recorded,
    and the reports of records already sent are still served."""
    try:
        for i, v in enumerate(values):
            p.produce(topic, value=v.encode(), partition=partitions[i % len(partitions)],
                      on_delivery=on_delivery)
    except KafkaException as e:
        produce_errors.append(e.args[0].name())
    return p.flush(30)


p1 = producer()
p1.begin_transaction()
assert write(p1, ['p1-before-%d' % i for i in range(5)], [0]) == 0
p1.commit_transaction(30)
p1.begin_transaction()
assert write(p1, ['p1-open-%d' % i for i in range(5)], [0]) == 0
assert not delivery_errors and not produce_errors, (delivery_errors, produce_errors)

p2 = producer()
p2.begin_transaction()
assert write(p2, ['p2-%d' % i for i in range(5)], [0, 1]) == 0
p2.commit_transaction(30)
assert not delivery_errors and not fatal_errors, (delivery_errors, fatal_errors)

for values, partitions in ((['p1-after-%d' % i for i in range(3)], [0]),
                           (['p1-after-%d' % i for i in range(3, 5)], [1])):
    try:
        write(p1, values, partitions)
    except KafkaException as e:
        produce_errors.append(e.args[0].name())
commit_error, commit_fatal = None, False
try:
    p1.commit_transaction(30)
except KafkaException as e:
    commit_error, commit_fatal = e.args[0].name(), e.args[0].fatal()
try:
    p1.poll(0)  # serves error_cb
except KafkaException as e:  # or raises the fatal error itself
    fatal_errors.append(e.args[0].name())
print(json.dumps({"delivery_errors": delivery_errors, "produce_errors": produce_errors,
                  "commit_error": commit_error, "commit_fatal": commit_fatal,
                  "fatal_errors": fatal_errors}))
