"""``--command-config``: Kafka client properties become aiokafka's TLS and SASL options."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from generator.commands.cluster import ClusterConfigError, admin_options, read_command_config


def test_properties_file_with_comments_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_SECRET", "s3cret")
    path = tmp_path / "client.properties"
    path.write_text(
        "# Kafka tools' format\n! also a comment\n\nsecurity.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanism = SCRAM-SHA-512\nsasl.username: ci\nsasl.password=${KAFKA_SECRET}\n"
    )
    properties = read_command_config(path)
    assert properties["sasl.password"] == "s3cret"
    assert admin_options(properties) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ci",
        "sasl_plain_password": "s3cret",
    }


def test_unset_variable_and_bad_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    path = tmp_path / "c.properties"
    path.write_text("sasl.password=${NOPE_NOT_SET}\n")
    with pytest.raises(ClusterConfigError, match=r"c.properties:1: sasl.password uses \$\{NOPE"):
        read_command_config(path)
    path.write_text("security.protocol\n")
    with pytest.raises(ClusterConfigError, match=r"c\.properties:1: expected key=value"):
        read_command_config(path)


def test_java_jaas_config_and_tls() -> None:
    options = admin_options(
        {
            "security.protocol": "SASL_SSL",
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
            'required username="app" password="pw";',
            "ssl.endpoint.identification.algorithm": "",
        }
    )
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("app", "pw")
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.check_hostname is False


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"ssl.truststore.location": "x.jks"}, "Java key stores cannot be read"),
        ({"sasl.mechansim": "PLAIN"}, "did you mean 'sasl.mechanism'"),
        ({"security.protocol": "TLS"}, "expected one of PLAINTEXT, SSL"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"}, "sasl.mechanism 'GSSAPI'"),
        ({"ssl.ca.location": "/ca.pem"}, "need security.protocol SSL or SASL_SSL"),
        ({"security.protocol": "SSL", "ssl.ca.location": "/no/such/ca.pem"}, "cannot load the TLS"),
        ({"request.timeout.ms": "soon"}, "expected milliseconds"),
    ],
)
def test_invalid_settings_say_what_is_expected(properties: dict[str, str], message: str) -> None:
    with pytest.raises(ClusterConfigError, match=message):
        admin_options(properties)


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_sasl_password_never_reaches_the_output(tmp_path: Path, command: str) -> None:
    # The password of a --command-config file stays out of errors and logs (credential rule).
    import subprocess
    import sys

    from tests.paths import ROOT

    config = tmp_path / "client.properties"
    config.write_text(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        "sasl.username=alice\nsasl.password=hunter2-secret\n",
        encoding="utf-8",
    )
    exe = str(Path(sys.executable).parent / "gen-topics")
    argv = [exe, command, str(ROOT / "schemas"), "--bootstrap-servers", "127.0.0.1:1"]
    argv += ["--command-config", str(config)] + (["--yes"] if command == "apply" else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "cannot reach the Kafka cluster at 127.0.0.1:1" in output
    assert "hunter2" not in output
