"""A kafka-python group consumer driven by the e2e tests.

Usage: kp_group_consumer.py BOOTSTRAP TOPIC GROUP CLIENT_ID AUTO_COMMIT_MS
AUTO_COMMIT_MS is the auto_commit_interval_ms, or 0 for
enable_auto_commit=False.

Prints one JSON object a line on stdout:
  {"ev": "assigned"|"revoked", "partitions": [...]}   rebalance listener
  {"ev": "rec", "p": P, "o": O, "v": "value"}         each record read
  {"ev": "committed", "offsets": {"P": O, ...}}       after a commit command
  {"ev": "closed"}                                    after close
Reads commands from stdin, one a line:
  commit       consumer.commit() of everything read so far
  close        consumer.close() (leaves the group), then exit
End of stdin is close.
"""
import json
import queue
import sys
import threading

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition

bootstrap, topic, group, client_id, auto_ms = sys.argv[1:6]
auto_ms = int(auto_ms)


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        out({"ev": "revoked", "partitions": sorted(tp.partition for tp in revoked)})

    def on_partitions_assigned(self, assigned):
        out({"ev": "assigned", "partitions": sorted(tp.partition for tp in assigned)})


opts = dict(bootstrap_servers=bootstrap, group_id=group, client_id=client_id,
            auto_offset_reset='earliest', session_timeout_ms=6000,
            heartbeat_interval_ms=500, enable_auto_commit=auto_ms > 0)
if auto_ms > 0:
    opts['auto_commit_interval_ms'] = auto_ms
consumer = KafkaConsumer(**opts)
consumer.subscribe([topic], listener=Listener())

cmds = queue.Queue()


def read_commands():
    for line in sys.stdin:
        cmds.put(line.strip())
    cmds.put('close')


threading.Thread(target=read_commands, daemon=True).start()

while True:
    try:
        cmd = cmds.get_nowait()
    except queue.Empty:
        cmd = None
    if cmd == 'commit':
        consumer.commit()
        offsets = {}
        for tp in consumer.assignment():
            c = consumer.committed(tp)
            if c is not None:
                offsets[str(tp.partition)] = c
        out({"ev": "committed", "offsets": offsets})
    elif cmd == 'close':
        consumer.close()
        out({"ev": "closed"})
        break
    for tp, msgs in sorted(consumer.poll(timeout_ms=100).items()):
        for m in msgs:
            out({"ev": "rec", "p": m.partition, "o": m.offset, "v": m.value.decode()})
