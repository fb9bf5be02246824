"""A traced, metered service on the embedded broker: spans on the console, /metrics served.

    pip install "gen-topics[otel,prometheus]" opentelemetry-sdk
    python examples/observability.py [--port 9464]

It sends three orders, reads them back as a second App (another service), prints each
finished span (the consumer span is a child of the producer span: same trace id), then
fetches its own /metrics page and prints the gen_topics series.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from gen_topics import App


async def main(port: int) -> int:
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: _line(span) + "\n"))
    )
    trace.set_tracer_provider(provider)  # what App(tracing=True) uses
    shop = App("shop", broker="memory://observability", tracing=True, metrics_port=port)
    billing = App("billing", broker="memory://observability", tracing=True)
    async with shop, billing:
        orders = shop.topic("orders", key_serializer="str", value_serializer="json")
        for n in range(3):
            await (await orders.send(key=f"order-{n}", value={"n": n}))
        seen = 0
        async for event in billing.topic("orders", key_serializer="str", value_serializer="json"):
            seen += 1
            if seen == 3:
                event.ack()  # processed: ends its span (reading on would ack it too)
                break
        url = f"http://127.0.0.1:{port}/metrics"
        page = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    for line in page.decode().splitlines():
        if line.startswith("gen_topics_") and "_bucket" not in line:
            print(line)
    return 0


def _line(span: ReadableSpan) -> str:
    ctx, parent = span.context, span.parent
    assert ctx is not None
    return (
        f"span {span.name!r} kind={span.kind.name} trace={ctx.trace_id:032x} "
        f"span={ctx.span_id:016x} parent={'-' if parent is None else f'{parent.span_id:016x}'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9464)
    raise SystemExit(asyncio.run(main(parser.parse_args().port)))
