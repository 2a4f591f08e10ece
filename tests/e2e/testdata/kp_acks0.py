"""kafka-python producer with acks=0 (at-most-once) driven by the e2e tests.

Usage: kp_acks0.py BOOTSTRAP TOPIC COUNT
Sends the values 0..COUNT-1 (decimal strings) to partition 0 of TOPIC
with acks=0, flushes, and prints one JSON object:
  {"offsets": [...], "problems": [...]}
offsets are the RecordMetadata offsets kafka-python reported for each
record: -1 for every one when no produce response was read (kafka-python
completes acks=0 batches without waiting for one). problems are the
warnings and errors kafka-python logged, and connections it closed on an
error: a response it did not expect shows there ("Socket EVENT_READ
without in-flight-requests", "Protocol out of sync").
"""
import json
import logging
import sys
import time

from kafka import KafkaProducer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Collect(logging.Handler):
    """Keeps warnings, errors, and connections closed on an error."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.problems = []

    def emit(self, record):
        msg = record.getMessage()
        closed_on_error = 'Closing connection.' in msg and not msg.endswith('Closing connection. ')
        if record.levelno >= logging.WARNING or closed_on_error:
            self.problems.append(msg)


collect = Collect()
kafka_log = logging.getLogger('kafka')
kafka_log.setLevel(logging.INFO)
kafka_log.addHandler(collect)

producer = KafkaProducer(bootstrap_servers=bootstrap, acks=0, linger_ms=5,
                         batch_size=4096)
futures = [producer.send(topic, value=str(i).encode(), partition=0)
           for i in range(count)]
producer.flush(timeout=60)
offsets = [f.get(timeout=60).offset for f in futures]
# A metadata round trip on the same connections after the acks=0 batches:
# had the broker answered a produce request, kafka-python would read that
# answer first and log that no request was waiting for it.
updated = producer._metadata.request_update()
deadline = time.time() + 30
while not updated.is_done and time.time() < deadline:
    producer._sender.wakeup()
    time.sleep(0.02)  # the sender thread completes the future; nothing to block on
if not updated.succeeded():
    collect.problems.append('metadata refresh after the acks=0 sends did not succeed')
producer.close(timeout=30)
print(json.dumps({"offsets": offsets, "problems": collect.problems}))
