"""What the generated types and codecs do, beyond byte-exact round trips."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import io
import json
import re
import uuid

import fastavro
import pytest

from gen_topics.errors import EncodeError
from generated import orders, payments
from generated._avro_support import Duration
from generated.avro.com.acme.common import Currency, Money
from generated.avro.com.acme.inventory import Component
from generated.avro.com.acme.orders import OrderConfirmed, OrderDelivered
from generated.avro.com.acme.payments import MD5, Card, CardNetwork, Payment, PaymentStatus, Wallet
from generator.avro.canonical import fingerprint

AT = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC)
ORDER_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_union_branch_follows_the_python_type_not_the_shape() -> None:
    confirmed = OrderConfirmed(order_id=ORDER_ID, at=AT)
    delivered = OrderDelivered(order_id=ORDER_ID, at=AT)
    a = orders.VALUE_CODEC.encode(confirmed)
    b = orders.VALUE_CODEC.encode(delivered)
    assert a != b  # same fields, different union index
    assert type(orders.VALUE_CODEC.decode(a)) is OrderConfirmed
    assert type(orders.VALUE_CODEC.decode(b)) is OrderDelivered
    read = fastavro.schemaless_reader(
        io.BytesIO(b),
        fastavro.parse_schema(json.loads(orders.VALUE_SCHEMA)),
        None,
        return_named_type=True,
    )
    assert read[0] == "com.acme.orders.OrderDelivered"


def _payment() -> Payment:
    return Payment(
        payment_id=uuid.uuid4(),
        order_id=ORDER_ID,
        amount=Money(amount=decimal.Decimal("19.99"), currency=Currency.USD),
        method=Wallet(provider="paypal", account="a@b.c"),
        fingerprint=MD5(b"0123456789abcdef"),
        processing_time=dt.time(12, 30, 1, 123456),
        fee=decimal.Decimal("0.2500"),
    )


def test_defaults_are_typed_and_not_optional() -> None:
    p = _payment()
    assert p.status is PaymentStatus.PENDING
    assert p.settle_after == Duration(0, 2, 0)
    assert p.cutoff == dt.time(17, 0)
    assert p.metadata == {} and p.metadata is not _payment().metadata
    assert Money(amount=decimal.Decimal(1)).currency is Currency.EUR
    fields = {f.name: f.type for f in dataclasses.fields(Payment)}
    assert fields["status"] == "PaymentStatus"  # a default does not make it Optional


def test_logical_types_decode_to_python_types() -> None:
    p = _payment()
    p.method = Card(last4="4242", network=CardNetwork.AMEX, expiry=dt.date(2030, 1, 31))
    p.metadata = {"n": 1, "ok": True, "s": "x", "none": None}
    back = payments.VALUE_CODEC.decode(payments.VALUE_CODEC.encode(p))
    assert back == p
    assert isinstance(back.fingerprint, MD5)
    assert isinstance(back.method, Card) and back.method.network is CardNetwork.AMEX
    assert isinstance(back.settle_after, Duration)
    assert back.amount.amount == decimal.Decimal("19.99")
    assert back.metadata["ok"] is True


def test_duration_keeps_months_days_and_millis_apart() -> None:
    d = Duration(months=1, days=2, millis=3)
    assert Duration.from_avro(d.to_avro()) == d
    assert d.to_avro() == b"\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00"


def test_fixed_checks_its_size() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        MD5(b"short")


def test_recursive_type_round_trips() -> None:
    kit = Component(sku="kit", parts=[Component(sku="a", parts=[Component(sku="b")])])
    assert Component.from_avro(kit.to_avro()) == kit


def test_wrong_value_is_an_encode_error_naming_the_codec_and_the_types() -> None:
    with pytest.raises(EncodeError, match=r"payments-value.*expected Payment, got str"):
        payments.VALUE_CODEC.encode("not a payment")  # type: ignore[arg-type]
    union = "OrderPlaced | OrderConfirmed | OrderDelivered | OrderCancelled"
    with pytest.raises(EncodeError, match=re.escape(f"expected {union}, got Money")):
        orders.VALUE_CODEC.encode(Money(amount=decimal.Decimal("1.00")))  # type: ignore[arg-type]


def test_right_type_with_a_bad_field_names_the_field() -> None:
    bad = dataclasses.replace(OrderConfirmed(order_id=ORDER_ID, at=AT), at="yesterday")  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match="this OrderConfirmed does not fit the schema") as info:
        orders.VALUE_CODEC.encode(bad)
    assert "expected" not in str(info.value)


def test_embedded_fingerprint_matches_embedded_schema() -> None:
    assert fingerprint(orders.VALUE_SCHEMA) == orders.VALUE_FINGERPRINT
    assert fingerprint('"string"') == payments.KEY_FINGERPRINT


def test_topic_class_carries_descriptor_settings() -> None:
    assert orders.OrdersTopic.default_topics == ("orders",)
    assert orders.OrdersTopic.default_options.partitions == 6
    assert orders.OrdersTopic.default_options.retention == 30 * 86400
    assert orders.OrdersTopic.compatibility == "BACKWARD"
    assert payments.PaymentsTopic.subject_name_strategy == "topic_record"
    assert payments.PaymentsTopic.default_options.config["min.insync.replicas"] == "1"


def test_decode_with_an_older_writer_schema() -> None:
    old = json.loads(payments.VALUE_SCHEMA)
    old["fields"] = [f for f in old["fields"] if f["name"] not in ("risk_score", "metadata")]
    writer = fastavro.parse_schema(json.loads(json.dumps(old)))
    datum = _payment().to_avro()
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, writer, datum)
    back = payments.VALUE_CODEC.decode_with_writer_schema(buf.getvalue(), json.dumps(old))
    assert back.risk_score is None and back.metadata == {}
