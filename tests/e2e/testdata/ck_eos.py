"""confluent-kafka exactly-once consume-transform-produce, driven by the
e2e tests.

Usage: ck_eos.py BOOTSTRAP IN OUT GROUP TXN_ID COUNT M K
Consumes IN in group GROUP (read_committed, no auto commit) and copies each
record to the same partition of OUT with the value prefixed by "t-", in
transactions of at most M input records whose consumer offsets are sent
to the transaction (send_offsets_to_transaction). Every K-th transaction
is aborted on purpose (after its records were delivered); the consumer then seeks back to the transaction's
first offsets and processes the records again. Stops once COUNT input
records were committed and prints one JSON object:
  {"commits": C, "aborts": A, "processed": COUNT}
Exits non-zero on any error.
"""
import json
import sys

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

bootstrap, in_topic, out_topic, group, txn_id = sys.argv[1:6]
count, per_txn, abort_every = (int(a) for a in sys.argv[6:9])

consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                     'enable.auto.commit': False, 'auto.offset.reset': 'earliest',
                     'isolation.level': 'read_committed'})
consumer.subscribe([in_topic])
producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id,
                     'linger.ms': 5})
producer.init_transactions(30)


def consume():
    msgs = consumer.consume(num_messages=per_txn, timeout=1.0)
    for m in msgs:
        if m.error() is not None and m.error().code() != KafkaError._PARTITION_EOF:
            raise KafkaException(m.error())
    return [m for m in msgs if m.error() is None]


processed = commits = aborts = txns = 0
while processed < count:
    msgs = consume()
    if not msgs:
        continue
    txns += 1
    producer.begin_transaction()
    for m in msgs:
        producer.produce(out_topic, value=b't-' + m.value(), partition=m.partition())
    positions = consumer.position(consumer.assignment())
    producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
    if txns % abort_every == 0:
        # Deliver the records first: abort_transaction purges what is
        # still queued, and the test wants aborted records in the log.
        if producer.flush(30) != 0:
            sys.exit('records of transaction %d not delivered before the abort' % txns)
        producer.abort_transaction(30)
        aborts += 1
        first = {}
        for m in msgs:
            first.setdefault(m.partition(), m.offset())
        for p, o in first.items():
            consumer.seek(TopicPartition(in_topic, p, o))
    else:
        producer.commit_transaction(30)
        commits += 1
        processed += len(msgs)

consumer.close()
print(json.dumps({"commits": commits, "aborts": aborts, "processed": processed}))
