"""``gen-topics plan`` and ``apply`` against the real Kafka broker: a topic missing, a partition
count to raise, a config drifted, one to lower (refused), an undeclared topic; a second apply
changes nothing; exit codes 0/1/2."""

from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from gen_topics._transport.base import TopicDescription
from gen_topics._transport.kafka import KafkaAdmin
from generator.cli import main

pytestmark = pytest.mark.kafka


async def _with_admin(bootstrap: str, work: Any) -> Any:
    admin = KafkaAdmin(bootstrap)
    await admin.start()
    try:
        return await work(admin)
    finally:
        await admin.close()


def _describe(bootstrap: str, *names: str) -> dict[str, TopicDescription | None]:
    async def work(admin: KafkaAdmin) -> dict[str, TopicDescription | None]:
        return {name: await admin.describe_topic(name) for name in names}

    result: dict[str, TopicDescription | None] = asyncio.run(_with_admin(bootstrap, work))
    return result


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main([*args, "--format", "json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


@pytest.fixture
def cluster(kafka_bootstrap: str, tmp_path: Path) -> tuple[str, Path, dict[str, str]]:
    """Existing topics in every state, and a schemas folder that declares them."""
    run = uuid.uuid4().hex[:8]
    names = {k: f"plan-{run}-{k}" for k in ("missing", "raise", "drift", "lower", "sync", "extra")}

    async def setup(admin: KafkaAdmin) -> None:
        await admin.create_topic(names["raise"], partitions=1, replicas=1, config={})
        await admin.create_topic(
            names["drift"],
            partitions=1,
            replicas=1,
            config={"retention.ms": "1000", "segment.bytes": "1048576"},
        )
        await admin.create_topic(names["lower"], partitions=4, replicas=1, config={})
        await admin.create_topic(
            names["sync"], partitions=2, replicas=1, config={"cleanup.policy": "compact"}
        )
        await admin.create_topic(names["extra"], partitions=1, replicas=1, config={})

    asyncio.run(_with_admin(kafka_bootstrap, setup))
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "t.topic.yaml").write_text(
        textwrap.dedent(
            f"""\
            topics:
              {names["missing"]}:
                value: string
                partitions: 2
                retention: 2h
              {names["raise"]}:
                value: string
                partitions: 3
              {names["drift"]}:
                value: string
                partitions: 1
                retention: 7d
              {names["lower"]}:
                value: string
                partitions: 2
              {names["sync"]}:
                value: string
                partitions: 2
                compacting: true
            """
        ),
        encoding="utf-8",
    )
    return kafka_bootstrap, schemas, names


def test_plan_then_apply_then_nothing_left(
    cluster: tuple[str, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap, schemas, names = cluster
    common = [str(schemas), "--bootstrap-servers", bootstrap]
    status, plan = _run(capsys, "plan", *common)
    assert status == 1
    changes = {(c["topic"], c["kind"], c["action"]) for c in plan["changes"]}
    assert changes == {
        (names["missing"], "create", "apply"),
        (names["raise"], "partitions", "apply"),
        (names["drift"], "config", "apply"),
        (names["lower"], "partitions", "refuse"),
    }
    assert plan["in_sync"] == [names["sync"]]
    drift = next(c for c in plan["changes"] if c["topic"] == names["drift"])
    assert drift["config"] == {"retention.ms": "604800000"}
    lower = next(c for c in plan["changes"] if c["action"] == "refuse")
    assert "cannot remove partitions" in lower["message"] and lower["line"] == 15
    # plan only looked: nothing was created (describing must not auto-create topics).
    assert _describe(bootstrap, names["missing"])[names["missing"]] is None

    status, applied = _run(capsys, "apply", *common, "--yes")
    assert status == 1  # the lowering was refused
    assert {(c["topic"], c["kind"]) for c in applied["applied"]} == {
        (names["missing"], "create"),
        (names["raise"], "partitions"),
        (names["drift"], "config"),
    }
    state = _describe(bootstrap, *names.values())
    missing, raised, drift_t, lowered = (
        state[names[k]] for k in ("missing", "raise", "drift", "lower")
    )
    assert missing is not None and missing.partitions == 2
    assert missing.config["retention.ms"] == "7200000"
    assert raised is not None and raised.partitions == 3
    assert drift_t is not None and drift_t.config["retention.ms"] == "604800000"
    # Incremental: the undeclared segment.bytes is as it was.
    assert drift_t.config["segment.bytes"] == "1048576"
    assert lowered is not None and lowered.partitions == 4  # never lowered

    status, again = _run(capsys, "apply", *common, "--yes")
    assert status == 1 and again["applied"] == []
    assert [c["action"] for c in again["remaining"]] == ["refuse"]

    # Declaring what the cluster has makes both commands exit 0.
    text = (schemas / "t.topic.yaml").read_text()
    marker = f"  {names['lower']}:\n    value: string\n    partitions: 2"
    assert marker in text
    (schemas / "t.topic.yaml").write_text(text.replace(marker, marker[:-1] + "4"))
    assert _run(capsys, "plan", *common)[0] == 0
    status, done = _run(capsys, "apply", *common, "--yes")
    assert status == 0 and done["applied"] == [] and done["remaining"] == []


def test_plan_all_lists_undeclared_topics(
    cluster: tuple[str, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap, schemas, names = cluster
    status, plan = _run(capsys, "plan", str(schemas), "--bootstrap-servers", bootstrap, "--all")
    assert status == 1
    undeclared = [c["topic"] for c in plan["changes"] if c["kind"] == "undeclared"]
    assert names["extra"] in undeclared
    assert not any(t.startswith("__") for t in undeclared)  # Kafka's internal topics


def test_apply_needs_yes_off_a_terminal(
    cluster: tuple[str, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap, schemas, names = cluster
    status, report = _run(capsys, "apply", str(schemas), "--bootstrap-servers", bootstrap)
    assert status == 2 and "--yes" in report["issues"][0]["message"]
    assert _describe(bootstrap, names["missing"])[names["missing"]] is None


def test_github_annotations(
    cluster: tuple[str, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap, schemas, names = cluster
    assert main(["plan", str(schemas), "--bootstrap-servers", bootstrap, "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    file = (schemas / "t.topic.yaml").as_posix()
    assert any(
        line.startswith(f"::error file={file},line=15,") and names["lower"] in line
        for line in lines
    ), lines
    assert any(line.startswith(f"::notice file={file},line=2,") for line in lines), lines


def test_errors_exit_2(
    tmp_path: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "t.topic.yaml").write_text("topics:\n  plan-unreachable:\n    value: string\n")
    status, report = _run(
        capsys, "plan", str(good), "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5"
    )
    assert status == 2 and "cannot reach the Kafka cluster" in report["issues"][0]["message"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t.topic.yaml").write_text("topics:\n  x:\n    value: com.nope.Missing\n")
    status, report = _run(capsys, "plan", str(bad), "--bootstrap-servers", kafka_bootstrap)
    assert status == 2 and report["issues"][0]["line"] == 3
    config = tmp_path / "client.properties"
    config.write_text("security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n")
    status, report = _run(
        capsys,
        "plan",
        str(good),
        "--bootstrap-servers",
        kafka_bootstrap,
        "--command-config",
        str(config),
    )
    assert status == 2 and "needs sasl.username" in report["issues"][0]["message"]
