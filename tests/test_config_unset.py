"""Optional settings a host leaves blank do not break the server: an empty value or an
unsubstituted ``${user_config.x}`` placeholder (as an MCPB host may pass) means unset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_server_kie.config import Settings
from test_doctor import doctor

OPTIONAL = {
    "KIE_API_KEY": "${user_config.api_key}",
    "KIE_PUBLIC_URL": "${user_config.public_url}",
    "KIE_WEBHOOK_HMAC_KEY": "${user_config.webhook_hmac_key}",
    "KIE_MAX_CREDITS_PER_JOB": "${user_config.max_credits_per_job}",
    "KIE_MAX_CREDITS_PER_DAY": "",
    "KIE_SANDBOX": "${user_config.sandbox}",
    "KIE_DATA_DIR": " ",
}


def test_placeholders_and_blanks_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("KIE_")]:
        monkeypatch.delenv(name)
    for name, value in OPTIONAL.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.api_key is None and settings.api_key_value() is None
    assert settings.public_url is None and settings.webhook_hmac_key_value() is None
    assert settings.max_credits_per_job is None and settings.max_credits_per_day is None
    assert settings.sandbox is False and settings.data_dir is None
    monkeypatch.setenv("KIE_MAX_CREDITS_PER_JOB", "120")
    monkeypatch.setenv("KIE_PUBLIC_URL", "https://example.org/kie/")
    monkeypatch.setenv("KIE_SANDBOX", "true")
    real = Settings()
    assert real.max_credits_per_job == 120 and real.public_url == "https://example.org/kie"
    assert real.sandbox is True


def test_the_server_starts_with_every_optional_setting_left_as_a_placeholder(
    tmp_path: Path,
) -> None:
    left_blank = {**OPTIONAL, "KIE_SANDBOX": "true", "KIE_WEBHOOK_PORT": "0"}
    done = doctor(tmp_path, **left_blank)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sandbox mode" in done.stdout and "[FAIL]" not in done.stdout
    assert "user_config" not in done.stdout
