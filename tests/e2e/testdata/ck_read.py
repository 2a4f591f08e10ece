"""confluent-kafka consumer that reads every partition of a topic from the
beginning to its end at an isolation level, driven by the e2e tests.

Usage: ck_read.py BOOTSTRAP TOPIC ISOLATION
ISOLATION is read_committed or read_uncommitted. Reads until every
partition reported its end (enable.partition.eof: the high watermark, or
the last stable offset for read_committed) and prints one JSON object:
  {"values": {"P": [...values in offset order...], ...}}
Exits non-zero on any error.
"""
import json
import sys

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition, OFFSET_BEGINNING

bootstrap, topic, isolation = sys.argv[1:4]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'ck-read-' + isolation,
              'enable.auto.commit': False, 'enable.partition.eof': True,
              'isolation.level': isolation})
parts = sorted(c.list_topics(topic, timeout=30).topics[topic].partitions)
c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
values = {str(p): [] for p in parts}
ended = set()
while len(ended) < len(parts):
    for m in c.consume(num_messages=1000, timeout=1.0):
        if m.error() is None:
            values[str(m.partition())].append(m.value().decode())
        elif m.error().code() == KafkaError._PARTITION_EOF:
            ended.add(m.partition())
        else:
            raise KafkaException(m.error())
c.close()
print(json.dumps({"values": values}))
