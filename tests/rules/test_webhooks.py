"""The webhook rules as tables: who receives what, the signature, the retry schedule, the addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from app.rules import webhooks as rules
from app.rules.webhooks import DeliveryStatus

NOW = datetime(2026, 12, 7, 16, 0, tzinfo=timezone.utc)
ALL = ["events.read", "pm.group_schedule.view", "pm.group_enrollments.view", "integrations.write"]


@pytest.mark.parametrize(
    ("event_type", "facility", "event_types", "facilities", "scopes", "expected"),
    [
        ("pm_group_session_scheduled", "a", ["pm_group_session_scheduled"], ["a"], ALL, True),
        ("pm_group_session_scheduled", "b", ["pm_group_session_scheduled"], ["a"], ALL, False),
        ("pm_group_session_scheduled", "b", ["pm_group_session_scheduled"], None, ALL, True),
        ("pm_group_session_scheduled", None, ["pm_group_session_scheduled"], ["a"], ALL, False),
        ("pm_group_session_updated", "a", ["pm_group_session_scheduled"], ["a"], ALL, False),
        ("pm_group_enrollment_enrolled", "a", ["pm_group_enrollment_enrolled"], ["a"], ["events.read"], False),
        ("group_session_documented", "a", ["group_session_documented"], ["a"], ALL, False),  # no billing.read
        ("webhook_endpoint_disabled", "a", ["webhook_endpoint_disabled"], ["a"], ["integrations.write"], True),
        ("test_event", "a", ["test_event"], ["a"], ALL, False),
    ],
)
def test_an_endpoint_receives_only_its_types_facilities_and_scopes(
    event_type, facility, event_types, facilities, scopes, expected
):
    assert (
        rules.receives(event_type, facility, event_types=event_types, facility_ids=facilities, scopes=scopes)
        is expected
    )


@pytest.mark.parametrize(
    ("event_types", "needed"),
    [
        (["pm_group_session_scheduled"], {"events.read", "pm.group_schedule.view"}),
        (["pm_group_attendance_alert"], {"events.read", "clinical.group-session.read"}),
        (["webhook_endpoint_disabled"], {"integrations.write"}),
    ],
)
def test_the_scopes_an_endpoint_needs(event_types, needed):
    assert rules.scopes_needed(event_types) == needed


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body_under_the_decoded_secret():
    key = bytes(range(32))
    secret = rules.new_secret(key)
    expected = base64.b64encode(hmac.new(key, b"msg_1.1700000000.{}", hashlib.sha256).digest()).decode()
    assert rules.signature(secret, "msg_1", 1700000000, b"{}") == f"v1,{expected}"
    assert rules.signature_header([secret, secret], "msg_1", 1700000000, b"{}") == f"v1,{expected} v1,{expected}"


@pytest.mark.parametrize(
    ("previous", "until", "count"),
    [
        (None, None, 1),
        ("whsec_b2xk", NOW + timedelta(hours=1), 2),
        ("whsec_b2xk", NOW, 1),
        ("whsec_b2xk", NOW - timedelta(seconds=1), 1),
    ],
)
def test_the_old_secret_signs_only_during_the_overlap(previous, until, count):
    assert len(rules.secrets_in_use("whsec_bmV3", previous, until, NOW)) == count


@pytest.mark.parametrize(
    ("attempts", "jitter", "seconds"),
    [
        (1, 0.0, 30),
        (2, 0.0, 120),
        (3, 0.0, 480),
        (5, 0.0, 7680),
        (6, 0.0, 28800),
        (13, 0.0, 28800),
        (1, 0.999, 30 * 1.24975),
    ],
)
def test_retries_back_off_exponentially_up_to_eight_hours_with_jitter(attempts, jitter, seconds):
    assert rules.retry_delay(attempts, 30, jitter).total_seconds() == pytest.approx(seconds)


def test_the_default_schedule_lasts_about_three_days():
    span = rules.schedule_span(30, 14)
    assert timedelta(days=2.5) < span < timedelta(days=3) < span * (1 + rules.JITTER) < timedelta(days=3.5)


@pytest.mark.parametrize(
    ("succeeded", "attempts", "failures", "status", "retry", "disable"),
    [
        (True, 3, 0, DeliveryStatus.SUCCEEDED, False, False),
        (False, 1, 1, DeliveryStatus.PENDING, True, False),
        (False, 13, 13, DeliveryStatus.PENDING, True, False),
        (False, 14, 14, DeliveryStatus.FAILED, False, True),
        (False, 14, 5, DeliveryStatus.FAILED, False, False),  # another message got through meanwhile
    ],
)
def test_after_an_attempt(succeeded, attempts, failures, status, retry, disable):
    outcome = rules.after_attempt(
        succeeded=succeeded,
        attempts=attempts,
        consecutive_failures=failures,
        now=NOW,
        base_seconds=30,
        max_attempts=14,
        jitter=0.0,
    )
    assert outcome.status == status
    assert (outcome.next_attempt_at is not None) is retry
    assert outcome.disable_endpoint is disable


@pytest.mark.parametrize(
    ("address", "allowed", "problem"),
    [
        ("93.184.216.34", (), None),
        ("2606:2800:220:1:248:1893:25c8:1946", (), None),
        ("127.0.0.1", (), "loopback"),
        ("127.0.0.1", ("127.0.0.0/8",), None),
        ("10.0.0.8", ("127.0.0.0/8",), "private"),
        ("172.16.5.4", (), "private"),
        ("192.168.1.1", (), "private"),
        ("169.254.169.254", (), "link-local"),
        ("fe80::1", (), "link-local"),
        ("::1", (), "loopback"),
        ("::ffff:127.0.0.1", (), "loopback"),
        ("::ffff:127.0.0.1", ("127.0.0.0/8",), None),
        ("2002:a00:1::", (), "private"),  # 6to4 of 10.0.0.1
        ("239.255.255.250", (), "multicast"),
        ("ff02::1", (), "multicast"),
        ("0.0.0.0", (), "unspecified"),
        ("100.64.0.1", (), "not a public address"),  # carrier-grade NAT
        ("fd00::1", (), "private"),
        ("fec0::1", (), "site-local"),  # deprecated site-local: Python counts it global
        ("feff:ffff::1", (), "site-local"),  # the top of fec0::/10
        ("fec0::1", ("fec0::/10",), None),
    ],
)
def test_addresses_inside_a_network_are_refused(address, allowed, problem):
    found = rules.address_problem(address, rules.networks(allowed))
    assert (found is None) if problem is None else (problem in found), found


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://ehr.example.org/hooks?x=1", None),
        ("http://ehr.example.org/hooks", None),
        ("ftp://ehr.example.org/hooks", "http(s)"),
        ("https:///hooks", "http(s)"),
        ("https://u:p@ehr.example.org/", "credentials"),
        ("https://ehr.example.org/#frag", "fragment"),
        ("https://ehr.example.org:99999/", "port"),
        ("https://ehr.example.org/a b", "absolute"),
        ("https://ehr.example.org/" + "a" * 2000, "absolute"),
    ],
)
def test_urls(url, problem):
    found = rules.url_problem(url)
    assert (found is None) if problem is None else (problem in found), found


def test_plain_http_only_to_addresses_the_operator_allowed():
    allowed = rules.networks(["10.0.0.0/8"])
    assert rules.scheme_problem("http://hooks.internal/", ["10.1.1.1"], allowed) is None
    assert "https" in rules.scheme_problem("http://hooks.example.org/", ["93.184.216.34"], allowed)
    assert rules.scheme_problem("https://hooks.example.org/", ["93.184.216.34"], allowed) is None
