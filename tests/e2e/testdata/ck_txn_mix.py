"""Two confluent-kafka transactional producers whose transactions overlap
in the same partitions, one always committing and one always aborting,
driven by the e2e tests.

Usage: ck_txn_mix.py BOOTSTRAP TOPIC PARTITIONS ROUNDS PER_ROUND
In each round both producers begin a transaction and write PER_ROUND
records each, alternating batch by batch (each record is delivered before
the other producer writes its next one), record j to partition
j % PARTITIONS: "c-R-J" by the committer, "a-R-J" by the aborter. Then
one commits and the other aborts (in alternating order by round). Prints
one JSON object:
  {"committed": [...], "aborted": [...]}
Exits non-zero on any error.
"""
import json
import sys

from confluent_kafka import Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
partitions, rounds, per_round = (int(a) for a in sys.argv[3:6])


def producer(txn_id):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'linger.ms': 0})
    p.init_transactions(30)
    return p


committer, aborter = producer('mix-committer'), producer('mix-aborter')
committed, aborted = [], []


def write(p, value, partition):
    p.produce(topic, value=value.encode(), partition=partition)
    if p.flush(30) != 0:
        sys.exit('%s not delivered' % value)


for r in range(rounds):
    committer.begin_transaction()
    aborter.begin_transaction()
    for j in range(per_round):
        write(committer, 'c-%d-%d' % (r, j), j % partitions)
        committed.append('c-%d-%d' % (r, j))
        write(aborter, 'a-%d-%d' % (r, j), j % partitions)
        aborted.append('a-%d-%d' % (r, j))
    if r % 2 == 0:
        committer.commit_transaction(30)
        aborter.abort_transaction(30)
    else:
        aborter.abort_transaction(30)
        committer.commit_transaction(30)

print(json.dumps({"committed": committed, "aborted": aborted}))
