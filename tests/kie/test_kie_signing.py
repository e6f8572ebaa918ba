"""Webhook HMAC signatures: known vectors, the replay window and hostile headers."""

from __future__ import annotations

import pytest

from mcp_server_kie.kie.signing import sign, verify_signature

KEY = "whk_test_3f9a1c"
TASK = "ee9c2715375b7837f8bb51d641ff5863"
TS = 1769670760
# Computed independently with:
#   printf '%s' 'ee9c2715375b7837f8bb51d641ff5863.1769670760' \
#     | openssl dgst -sha256 -hmac 'whk_test_3f9a1c' -binary | base64
GOOD = "iLwl0MfOu2TzfyKThLJBOE3yw3rJrcuGPqQIza6h2Nc="
GOOD_MARKET = "kCPB/fNIf2Fh+rLQu347ZSFPVJrMEAkIAENf83gy9bQ="  # e989….1755599644, same key


def test_sign_matches_independent_vectors() -> None:
    assert sign(KEY, TASK, TS) == GOOD
    assert sign(KEY, "e989621f54392584b05867f87b160672", 1755599644) == GOOD_MARKET


def test_known_good_signature_verifies() -> None:
    assert verify_signature(KEY, TASK, str(TS), GOOD, now=TS) is True
    assert verify_signature(KEY, TASK, str(TS), GOOD, now=TS + 0.5) is True


def test_url_safe_base64_is_not_accepted() -> None:
    task, ts = "e989621f54392584b05867f87b160672", "1755599644"
    assert verify_signature(KEY, task, ts, GOOD_MARKET, now=1755599644) is True
    url_safe = GOOD_MARKET.replace("+", "-").replace("/", "_")
    assert verify_signature(KEY, task, ts, url_safe, now=1755599644) is False


@pytest.mark.parametrize(
    ("key", "task", "signature"),
    [
        ("whk_test_3f9a1d", TASK, GOOD),
        ("", TASK, GOOD),
        (KEY, "ee9c2715375b7837f8bb51d641ff5864", GOOD),
        (KEY, "", GOOD),
        (KEY, TASK, "jLwl0MfOu2TzfyKThLJBOE3yw3rJrcuGPqQIza6h2Nc="),
        (KEY, TASK, GOOD_MARKET),
    ],
)
def test_wrong_key_task_or_tampered_signature(key: str, task: str, signature: str) -> None:
    assert verify_signature(key, task, str(TS), signature, now=TS) is False


def test_tampered_timestamp_fails() -> None:
    assert verify_signature(KEY, TASK, str(TS + 1), GOOD, now=TS) is False


@pytest.mark.parametrize("skew", [-299, 299, -300, 300])
def test_inside_window(skew: int) -> None:
    ts = TS + skew
    assert verify_signature(KEY, TASK, str(ts), sign(KEY, TASK, ts), now=TS) is True


@pytest.mark.parametrize("skew", [-301, 301, -100_000])
def test_outside_window(skew: int) -> None:
    ts = TS + skew
    assert verify_signature(KEY, TASK, str(ts), sign(KEY, TASK, ts), now=TS) is False


def test_custom_tolerance() -> None:
    ts = TS - 30
    assert verify_signature(KEY, TASK, str(ts), sign(KEY, TASK, ts), now=TS, tolerance=10) is False


@pytest.mark.parametrize(
    "timestamp",
    [
        None,
        "",
        " ",
        "nan",
        "NaN",
        "inf",
        "1e10",
        "1769670760.0",
        "17696707600000000000",
        "-1769670760",
        "+1769670760",
        " 1769670760",
        "1769670760\n",
        "01769670760",
        "0x697b2f68",
        "١٧٦٩٦٧٠٧٦٠",  # Arabic-Indic digits
        "1769670760é",
        "\ud800",
    ],
)
def test_garbage_timestamps(timestamp: str | None) -> None:
    assert verify_signature(KEY, TASK, timestamp, GOOD, now=TS) is False


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "v1",
        "garbage",
        "not base64 at all!!",
        GOOD.rstrip("="),
        GOOD + "=",
        GOOD[:-2] + "=",
        " " + GOOD,
        GOOD + "\n",
        "v1," + GOOD,
        "é" * 44,
        "\ud800" * 44,
        "A" * 10_000,
    ],
)
def test_garbage_signatures(signature: str | None) -> None:
    assert verify_signature(KEY, TASK, str(TS), signature, now=TS) is False


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_clock(now: float) -> None:
    assert verify_signature(KEY, TASK, str(TS), GOOD, now=now) is False


def test_hostile_task_id_and_key_do_not_raise() -> None:
    assert verify_signature(KEY, "\ud800", str(TS), GOOD, now=TS) is False
    assert verify_signature("\udfff", TASK, str(TS), GOOD, now=TS) is False
