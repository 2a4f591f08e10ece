"""confluent-kafka AdminClient against Sluice: create, describe, alter
configs of, add partitions to and delete topics. Exits non-zero with a
message on the first wrong answer."""
import sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource

a = AdminClient({'bootstrap.servers': sys.argv[1]})

def wait(futures):
    return {k: f.result(timeout=30) for k, f in futures.items()}

wait(a.create_topics([NewTopic('adm1', num_partitions=3, replication_factor=1,
                               config={'retention.ms': '3600000'}),
                      NewTopic('adm2', num_partitions=1, replication_factor=1)]))

try:
    wait(a.create_topics([NewTopic('adm1', num_partitions=1, replication_factor=1)]))
    sys.exit('creating adm1 twice succeeded')
except KafkaException as e:
    assert e.args[0].name() == 'TOPIC_ALREADY_EXISTS', e

md = a.list_topics(timeout=30)
assert 'adm1' in md.topics and len(md.topics['adm1'].partitions) == 3, md.topics
assert 'adm2' in md.topics, md.topics

res = ConfigResource('topic', 'adm1')
cfg = wait(a.describe_configs([res]))[res]
assert cfg['retention.ms'].value == '3600000', cfg['retention.ms']
assert cfg['cleanup.policy'].value == 'delete', cfg['cleanup.policy']

wait(a.alter_configs([ConfigResource('topic', 'adm1',
                                     set_config={'retention.ms': '7200000',
                                                 'cleanup.policy': 'compact'})]))
cfg = wait(a.describe_configs([res]))[res]
assert cfg['retention.ms'].value == '7200000', cfg['retention.ms']
assert cfg['cleanup.policy'].value == 'compact', cfg['cleanup.policy']

try:
    wait(a.alter_configs([ConfigResource('topic', 'adm1',
                                         set_config={'retention.ms': 'soon'})]))
    sys.exit('invalid retention.ms accepted')
except KafkaException as e:
    assert e.args[0].name() == 'INVALID_CONFIG', e

wait(a.create_partitions([NewPartitions('adm1', 5)]))
md = a.list_topics(timeout=30)
assert len(md.topics['adm1'].partitions) == 5, md.topics['adm1'].partitions

wait(a.delete_topics(['adm1', 'adm2'], operation_timeout=30))
md = a.list_topics(timeout=30)
assert 'adm1' not in md.topics and 'adm2' not in md.topics, md.topics
print('ok')
