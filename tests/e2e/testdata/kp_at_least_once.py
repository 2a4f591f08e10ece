"""kafka-python producer with acks=1 and retries (at-least-once), driven
by the e2e tests, which kill -9 and restart the broker under it.

Usage: kp_at_least_once.py BOOTSTRAP TOPIC COUNT
Sends the values 0..COUNT-1 (decimal strings), value i to partition
i % partitions, without idempotence, and prints one JSON object a line:
  {"ack": i, "p": P, "o": O}     the broker acknowledged value i at P/O
  {"err": i, "e": "..."}         value i failed for good
  {"done": true}                 after flush, when every send completed
Retries are unbounded in count; delivery_timeout is what bounds them.
"""
import json
import logging
import sys
import threading

from kafka import KafkaProducer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
lock = threading.Lock()
# kafka-python logs retries and lost connections as warnings (to a
# NullHandler unless told otherwise): show them on stderr.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def out(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, retries=1 << 30,
                         retry_backoff_ms=100, reconnect_backoff_ms=50,
                         reconnect_backoff_max_ms=500, request_timeout_ms=10000,
                         linger_ms=2, batch_size=2048)
partitions = sorted(producer.partitions_for(topic))


def on_ack(i):
    return lambda md: out({"ack": i, "p": md.partition, "o": md.offset})


def on_err(i):
    return lambda e: out({"err": i, "e": repr(e)})


for i in range(count):
    f = producer.send(topic, value=str(i).encode(), partition=partitions[i % len(partitions)])
    f.add_callback(on_ack(i))
    f.add_errback(on_err(i))
producer.flush(timeout=120)
producer.close(timeout=30)
out({"done": True})
