"""A read-process-write service for the exactly-once kill tests: one derived record per input.

``python eos_processor.py BROKER GROUP INPUT OUTPUT GUARANTEE``; prints ``processed N`` every
1,000 events (so a test can kill it mid-stream) and runs until SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Literal, cast

from gen_topics import App


def main() -> int:
    broker, group, source_name, sink_name, guarantee = sys.argv[1:6]
    app = App(
        group,
        broker=broker,
        processing_guarantee=cast(Literal["at_least_once", "exactly_once"], guarantee),
        transaction_commit_interval=0.2,
        # One process at a time plays this role (a restart replaces it, like a pod of a
        # stateful set): a stable transactional id lets the restart abort the killed one's
        # open transaction at once, instead of after producer_transaction_timeout_ms.
        producer_transactional_id=f"{group}-processor" if guarantee == "exactly_once" else None,
        commit_interval=0.5,
    )
    source = app.topic(source_name, key_serializer="raw", value_serializer="raw")
    sink = app.topic(sink_name, key_serializer="raw", value_serializer="raw")

    async def process(app: App) -> None:
        count = 0
        async for event in source:
            # Queued on the producer now (its delivery is not awaited): written mid-stream.
            await sink.send(key=event.key, value=b"d-" + (event.value or b""))
            count += 1
            if count % 1000 == 0:
                print(f"processed {count}", flush=True)

    return app.run(process)


if __name__ == "__main__":
    sys.exit(main())
