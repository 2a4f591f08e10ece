"""confluent-kafka idempotent producer driven by the e2e tests.

Usage: ck_idempotent.py BOOTSTRAP TOPIC COUNT
Sends the values 0..COUNT-1 (decimal strings) to partition 0 of TOPIC with
enable.idempotence=True, in batches of at most 50 records, flushes, and
prints one JSON object:
  {"acked": N, "left": L, "errors": [...], "fatal": [...], "offsets": [...]}
offsets[i] is the offset the broker acknowledged value i with (-1 when it
failed); left is what flush left undelivered; errors are the delivery
errors; fatal the fatal errors reported to error_cb (a lost connection is
reported there too, as a non-fatal error).
"""
import json
import sys

from confluent_kafka import Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
offsets = [-1] * count
errors = []
fatal = []


def on_error(err):
    if err.fatal():
        fatal.append(str(err))


def on_delivery(err, msg):
    i = int(msg.value())
    if err is not None:
        errors.append('%d: %s' % (i, err))
    else:
        offsets[i] = msg.offset()


p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True,
              'linger.ms': 5, 'batch.num.messages': 50,
              'message.timeout.ms': 120000, 'error_cb': on_error})
for i in range(count):
    while True:
        try:
            p.produce(topic, value=str(i).encode(), partition=0, on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.1)
    p.poll(0)
left = p.flush(150)
print(json.dumps({"acked": sum(1 for o in offsets if o >= 0), "left": left,
                  "errors": errors, "fatal": fatal, "offsets": offsets}))
