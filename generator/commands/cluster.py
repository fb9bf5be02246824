"""Topics as code: what differs between the topic descriptors and a Kafka cluster.

``gen-topics plan`` prints the differences, ``gen-topics apply`` makes the safe ones. Both
read the cluster and change it through the run-time's admin client (``KafkaAdmin``) and the
rules of ``Topic.declare()``: the same config a topic declares (``topic_config``), the same
comparison (``compare_topic``), the same ``create_topic``. Apply only adds: it creates
topics, raises partition counts and sets configs; it never deletes a topic, lowers a
partition count or moves replicas, and says why.
"""

from __future__ import annotations

import argparse
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gen_topics._declare import compare_topic, topic_config
from gen_topics._settings import Settings
from gen_topics._transport.base import AdminTransport
from generator.descriptors import TopicDescriptor
from generator.suggest import did_you_mean

__all__ = [
    "Change",
    "ClusterConfigError",
    "Plan",
    "add_cluster_arguments",
    "admin_options",
    "make_plan",
    "read_command_config",
]

# What Topic.declare() uses for a topic that does not say (App defaults).
_DEFAULTS = Settings(id="gen-topics")


class ClusterConfigError(ValueError):
    """A connection setting (``--command-config`` file, flag) is invalid: says which and why."""


@dataclass(frozen=True)
class Change:
    """One difference between a descriptor and the cluster.

    ``action``: ``apply`` (apply makes it), ``refuse`` (apply will not: lowering partitions,
    changing the replication factor) or ``report`` (only listed: a topic no descriptor
    declares, with ``--all``).
    """

    topic: str
    kind: str  # create | partitions | config | replicas | undeclared
    action: str  # apply | refuse | report
    message: str
    file: str = ""
    line: int = 0
    partitions: int | None = None
    replicas: int | None = None
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """Every change, and the declared topics that are already as declared."""

    changes: list[Change] = field(default_factory=list)
    in_sync: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """True when the cluster differs from the descriptors in any way."""
        return bool(self.changes)

    def to_json(self) -> list[dict[str, Any]]:
        """The changes as plain data."""
        return [asdict(c) for c in self.changes]


def _shown(config: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(config.items()))


async def make_plan(
    admin: AdminTransport, descriptors: Sequence[TopicDescriptor], *, undeclared: bool = False
) -> Plan:
    """Compare each descriptor with the cluster through ``admin`` (and, with ``undeclared``,
    list the cluster's topics that no descriptor declares)."""
    plan = Plan()
    for desc in descriptors:
        line = desc.line
        config = topic_config(
            retention=desc.retention,
            compacting=desc.compacting,
            deleting=desc.deleting,
            config=desc.config,
        )
        actual = await admin.describe_topic(desc.topic)
        if actual is None:
            partitions = desc.partitions or _DEFAULTS.topic_partitions
            replicas = desc.replicas or _DEFAULTS.topic_replication_factor or 1
            settings = f"partitions={partitions}, replicas={replicas}"
            plan.changes.append(
                Change(
                    desc.topic,
                    "create",
                    "apply",
                    f"create the topic ({settings}" + (f", {_shown(config)})" if config else ")"),
                    desc.file,
                    line,
                    partitions=partitions,
                    replicas=replicas,
                    config=config,
                )
            )
            continue
        diff = compare_topic(
            actual, partitions=desc.partitions, replicas=desc.replicas, config=config
        )
        if not diff:
            plan.in_sync.append(desc.topic)
            continue
        for key, (want, have) in diff.items():
            plan.changes.append(_change(desc, key, want, have))
    if undeclared:
        declared = {d.topic for d in descriptors}
        for name in await admin.list_topics():
            if name not in declared:
                plan.changes.append(
                    Change(
                        name,
                        "undeclared",
                        "report",
                        "is on the cluster but no descriptor declares it (apply never deletes "
                        "topics; declare it, or delete it with Kafka's tools)",
                    )
                )
    return plan


def _change(desc: TopicDescriptor, key: str, want: object, have: object) -> Change:
    file, topic = desc.file, desc.topic
    if key == "partitions":
        assert isinstance(want, int) and isinstance(have, int)
        line = desc.lines.get("partitions", desc.line)
        if want > have:
            return Change(
                topic,
                "partitions",
                "apply",
                f"raise partitions {have} -> {want}",
                file,
                line,
                partitions=want,
            )
        return Change(
            topic,
            "partitions",
            "refuse",
            f"has {have} partitions, the descriptor says {want}: Kafka cannot remove partitions "
            f"(records live in them); set partitions: {have}, or recreate the topic",
            file,
            line,
        )
    if key == "replicas":
        return Change(
            topic,
            "replicas",
            "refuse",
            f"has replication factor {have}, the descriptor says {want}: gen-topics does not "
            "move replicas; reassign them with kafka-reassign-partitions.sh",
            file,
            desc.lines.get("replicas", desc.line),
        )
    assert isinstance(want, str)
    shown = "unset" if have is None else repr(have)
    line = desc.lines.get(_SETTING_OF.get(key, "config"), desc.line)
    return Change(
        topic,
        "config",
        "apply",
        f"set {key} = {want!r} (is {shown})",
        file,
        line,
        config={key: want},
    )


# The descriptor setting a broker config comes from (for the line an annotation points at).
_SETTING_OF = {"retention.ms": "retention", "cleanup.policy": "compacting"}


async def apply_plan(admin: AdminTransport, plan: Plan) -> list[Change]:
    """Make every ``apply`` change of ``plan``; returns those made, in order.

    Topics are created with ``create_topic`` (as ``Topic.declare()`` does); the configs of
    one topic are changed in one incremental request.
    """
    done: list[Change] = []
    configs: dict[str, dict[str, str]] = {}
    for change in plan.changes:
        if change.action != "apply":
            continue
        if change.kind == "create":
            assert change.partitions is not None and change.replicas is not None
            created = await admin.create_topic(
                change.topic,
                partitions=change.partitions,
                replicas=change.replicas,
                config=change.config,
            )
            if created:
                done.append(change)
        elif change.kind == "partitions":
            assert change.partitions is not None
            await admin.create_partitions(change.topic, change.partitions)
            done.append(change)
        else:
            configs.setdefault(change.topic, {}).update(change.config)
    for topic, config in configs.items():
        await admin.alter_topic_config(topic, dict(config))
        done.extend(c for c in plan.changes if c.kind == "config" and c.topic == topic)
    return done


# -- connection settings -----------------------------------------------------------------

_PROPERTY_KEYS = (
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "sasl.jaas.config",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "client.id",
    "request.timeout.ms",
)
_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_JAVA_ONLY = ("ssl.truststore.", "ssl.keystore.")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_command_config(path: Path) -> dict[str, str]:
    """Read a ``--command-config`` properties file (``key=value`` lines, ``#`` comments), as
    Kafka's own tools take it; ``${NAME}`` in a value is the environment variable NAME."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClusterConfigError(f"--command-config {path}: cannot read it: {exc}") from exc
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        match = re.match(r"([^=:\s]+)\s*[=:]\s*(.*)\Z", line)
        if match is None:
            raise ClusterConfigError(f"{path}:{number}: expected key=value, got {line!r}")
        key, value = match.group(1), match.group(2)

        def env(m: re.Match[str], number: int = number, key: str = key) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ClusterConfigError(
                    f"{path}:{number}: {key} uses ${{{name}}}, but {name} is not set"
                )
            return os.environ[name]

        out[key] = _ENV.sub(env, value)
    return out


def admin_options(properties: dict[str, str], where: str = "--command-config") -> dict[str, Any]:
    """aiokafka client options (``security_protocol``, ``ssl_context``, ``sasl_*``...) for
    Kafka client properties, as librdkafka and Kafka's Java tools name them."""
    options: dict[str, Any] = {}
    for key in properties:
        if key.startswith(_JAVA_ONLY):
            raise ClusterConfigError(
                f"{where}: {key}: Java key stores cannot be read by Python clients; convert them "
                "to PEM files and set ssl.ca.location (and ssl.certificate.location, "
                "ssl.key.location for client certificates)"
            )
        if key not in _PROPERTY_KEYS:
            raise ClusterConfigError(
                f"{where}: unknown property {key!r}"
                + did_you_mean(key, _PROPERTY_KEYS)
                + f"; known: {', '.join(_PROPERTY_KEYS)}"
            )
    protocol = properties.get("security.protocol", "PLAINTEXT").upper()
    if protocol not in _PROTOCOLS:
        raise ClusterConfigError(
            f"{where}: security.protocol {protocol!r}: expected one of {', '.join(_PROTOCOLS)}"
        )
    options["security_protocol"] = protocol
    if protocol.startswith("SASL"):
        mechanism = properties.get("sasl.mechanism", "PLAIN").upper()
        if mechanism not in _MECHANISMS:
            raise ClusterConfigError(
                f"{where}: sasl.mechanism {mechanism!r}: expected one of {', '.join(_MECHANISMS)}"
            )
        username, password = properties.get("sasl.username"), properties.get("sasl.password")
        jaas = properties.get("sasl.jaas.config")
        if jaas is not None:
            found = dict(re.findall(r'(username|password)\s*=\s*"([^"]*)"', jaas))
            username, password = found.get("username", username), found.get("password", password)
        if not username or password is None:
            raise ClusterConfigError(
                f"{where}: {protocol} needs sasl.username and sasl.password (or sasl.jaas.config "
                'with username="..." password="...")'
            )
        options.update(
            sasl_mechanism=mechanism, sasl_plain_username=username, sasl_plain_password=password
        )
    if protocol.endswith("SSL"):
        options["ssl_context"] = _ssl_context(properties, where)
    elif any(k.startswith("ssl.") for k in properties):
        raise ClusterConfigError(f"{where}: ssl.* settings need security.protocol SSL or SASL_SSL")
    if "client.id" in properties:
        options["client_id"] = properties["client.id"]
    if "request.timeout.ms" in properties:
        value = properties["request.timeout.ms"]
        if not value.isdigit():
            raise ClusterConfigError(
                f"{where}: request.timeout.ms: expected milliseconds, got {value!r}"
            )
        options["request_timeout_ms"] = int(value)
    return options


def _ssl_context(properties: dict[str, str], where: str) -> ssl.SSLContext:
    ca = properties.get("ssl.ca.location")
    cert = properties.get("ssl.certificate.location")
    key = properties.get("ssl.key.location")
    try:
        context = ssl.create_default_context(cafile=ca)
        if cert is not None:
            context.load_cert_chain(cert, key, properties.get("ssl.key.password"))
    except (OSError, ssl.SSLError) as exc:
        raise ClusterConfigError(f"{where}: cannot load the TLS files: {exc}") from exc
    if properties.get("ssl.endpoint.identification.algorithm", "https").lower() in ("", "none"):
        context.check_hostname = False
    return context


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments ``plan`` and ``apply`` share."""
    parser.add_argument("schemas", type=Path, help="the schemas folder (descriptors, documents)")
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        metavar="HOST:PORT[,HOST:PORT]",
        help="the Kafka cluster (default: $KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument(
        "--command-config",
        type=Path,
        metavar="FILE",
        help="client properties for TLS and SASL, as Kafka's tools take them: "
        "security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca.location, ... "
        "(${NAME} reads an environment variable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the cluster (default 30)"
    )
    parser.add_argument("--format", choices=("text", "json", "github"), default="text")
