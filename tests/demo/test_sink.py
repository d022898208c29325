"""The local stand-ins for Slack, PagerDuty, webhooks and SMTP record what arrives."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

import httpx
import pytest

from exporter.demo.sink import SmtpSink, WebhookSink


def test_the_webhook_sink_records_every_post_with_its_path_and_json_body() -> None:
    with WebhookSink() as sink:
        answer = httpx.post(f"{sink.url}/pagerduty/oncall", json={"event_action": "trigger"})
        httpx.post(f"{sink.url}/plain", content=b"not json")
        assert answer.status_code == 200
        posted = sink.wait_for(lambda p: p.path == "/pagerduty/oncall", timeout=5)
        plain = sink.wait_for(lambda p: p.path == "/plain", timeout=5)
    assert posted.body == {"event_action": "trigger"}
    assert (plain.body, plain.raw) == (None, b"not json")
    assert posted.monotonic <= plain.monotonic


def test_waiting_for_what_never_arrives_times_out_naming_what_did() -> None:
    with WebhookSink() as sink:
        httpx.post(f"{sink.url}/slack", json={"text": "hello"})
        started = time.monotonic()
        with pytest.raises(
            TimeoutError, match=r"no Zebra alert within 0.2s; received:\n  POST /slack"
        ):
            sink.wait_for(lambda p: p.path == "/zebra", timeout=0.2, what="Zebra alert")
        assert time.monotonic() - started >= 0.2


def test_matching_within_returns_as_soon_as_something_matches() -> None:
    with WebhookSink() as sink:
        httpx.post(f"{sink.url}/zebra", json={})
        started = time.monotonic()
        found = sink.matching_within(lambda p: p.path == "/zebra", seconds=30)
    assert [p.path for p in found] == ["/zebra"]
    assert time.monotonic() - started < 5


def test_the_smtp_sink_records_each_message_with_its_envelope_and_parts() -> None:
    message = EmailMessage()
    message["Subject"] = "[FIRING:1] 🔴 ZebraAdminFailure"
    message["From"] = "alerts@marketedge.example"
    message["To"] = "matt.lindop@zebra.associates"
    message.set_content("ZEBRA ALERT in text")
    message.add_alternative("<p>ZEBRA ALERT in HTML</p>", subtype="html")
    with SmtpSink() as sink:
        with smtplib.SMTP(sink.host, sink.port) as client:
            client.send_message(message)
        mail = sink.wait_for(lambda m: True, timeout=5)
    assert mail.mail_from == "alerts@marketedge.example"
    assert mail.rcpt_tos == ("matt.lindop@zebra.associates",)
    assert mail.subject == "[FIRING:1] 🔴 ZebraAdminFailure"
    assert mail.part("plain").strip() == "ZEBRA ALERT in text"
    assert mail.part("html").strip() == "<p>ZEBRA ALERT in HTML</p>"
