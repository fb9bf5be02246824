"""The table of topic config names (generator/kafka_config.py) against a real broker.

A descriptor's ``config`` is refused unless its names are in the table, so the table must
hold every name the broker reports for a topic; names it holds that the broker does not
report must be ones the broker hides (internal configs) or vendor additions.
"""

from __future__ import annotations

import uuid

from gen_topics import App
from generator.kafka_config import CONFLUENT_TOPIC_CONFIGS, KAFKA_TOPIC_CONFIGS

# DescribeConfigs leaves out internal configs (ConfigDef.defineInternal).
_HIDDEN = {"internal.segment.bytes"}


async def test_the_table_is_what_the_broker_reports_for_a_topic(kafka_bootstrap: str) -> None:
    name = f"configs-{uuid.uuid4().hex[:10]}"
    async with App(name, broker=f"kafka://{kafka_bootstrap}") as app:
        await app.topic(name, partitions=1).declare()
        description = await (await app.admin()).describe_topic(name)
    assert description is not None
    reported = set(description.config)
    assert reported - KAFKA_TOPIC_CONFIGS == set()
    assert KAFKA_TOPIC_CONFIGS - reported <= _HIDDEN
    assert not CONFLUENT_TOPIC_CONFIGS & reported  # Apache Kafka has none of them
