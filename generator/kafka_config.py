"""The topic-level config names a broker accepts: what a descriptor's ``config:`` may set.

Source: ``LogConfig.configNames()`` of Apache Kafka 4.4.0 (the kafka-storage jar the project
runs its tests against; ``org.apache.kafka.storage.internals.log.LogConfig``), which is
every constant of ``org.apache.kafka.common.config.TopicConfig`` plus the throttled-replica
lists of ``QuotaConfig``, the set the broker checks a CreateTopics or AlterConfigs request
against (an unknown name is refused: ``InvalidConfigurationException``). The "Topic Configs"
section of https://kafka.apache.org/documentation/#topicconfigs lists the same names.
To refresh after a Kafka upgrade, print ``LogConfig.configNames()`` from the new jars.
"""

from __future__ import annotations

KAFKA_TOPIC_CONFIGS: frozenset[str] = frozenset(
    {
        "cleanup.policy",
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.type",
        "compression.zstd.level",
        "delete.retention.ms",
        "errors.deadletterqueue.group.enable",
        "file.delete.delay.ms",
        "flush.messages",
        "flush.ms",
        "follower.replication.throttled.replicas",
        "index.interval.bytes",
        "internal.segment.bytes",
        "leader.replication.throttled.replicas",
        "local.retention.bytes",
        "local.retention.ms",
        "max.compaction.lag.ms",
        "max.decompressed.message.bytes",
        "max.message.bytes",
        "message.timestamp.after.max.ms",
        "message.timestamp.before.max.ms",
        "message.timestamp.type",
        "min.cleanable.dirty.ratio",
        "min.compaction.lag.ms",
        "min.insync.replicas",
        "preallocate",
        "remote.copy.lag.bytes",
        "remote.copy.lag.ms",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "remote.storage.enable",
        "retention.bytes",
        "retention.ms",
        "segment.bytes",
        "segment.index.bytes",
        "segment.jitter.ms",
        "segment.ms",
        "unclean.leader.election.enable",
    }
)

#: Topic configs of Confluent Server (not Apache Kafka) that AsyncAPI's Kafka channel binding
#: (bindings/kafka 0.5.0, ``topicConfiguration``) names; accepted so such documents import.
CONFLUENT_TOPIC_CONFIGS: frozenset[str] = frozenset(
    {
        "confluent.key.schema.validation",
        "confluent.key.subject.name.strategy",
        "confluent.value.schema.validation",
        "confluent.value.subject.name.strategy",
    }
)

KNOWN_TOPIC_CONFIGS: frozenset[str] = KAFKA_TOPIC_CONFIGS | CONFLUENT_TOPIC_CONFIGS

#: Names people put in a topic's config that are not topic configs, and the descriptor
#: setting that says it (partition and replica counts are properties of the topic itself in
#: CreateTopics; ``num.partitions`` and ``default.replication.factor`` are broker defaults).
SETTING_INSTEAD: dict[str, str] = {
    "num.partitions": "partitions",
    "partitions": "partitions",
    "replication.factor": "replicas",
    "default.replication.factor": "replicas",
    "replicas": "replicas",
    "retention": "retention",
}

#: The values ``cleanup.policy`` takes (a comma-separated list of them).
CLEANUP_POLICIES = ("compact", "delete")
