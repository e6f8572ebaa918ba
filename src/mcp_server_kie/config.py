"""Settings, read once from the environment (prefix ``KIE_``) in the CLI and passed down."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_server_kie.media.ssrf import parse_allow_hosts

APP_NAME = "mcp-server-kie"
SANDBOX_API_KEY = "sandbox-key"
# What a host passes for an optional setting the user left blank: nothing, or the template
# itself (an MCPB bundle's "${user_config.public_url}" when the host does not substitute it).
_UNSET = re.compile(r"\s*(\$\{[^}]*\}\s*)?")


class Settings(BaseSettings):
    # Errors never echo what was given: several settings are secrets.
    model_config = SettingsConfigDict(env_prefix="KIE_", extra="ignore", hide_input_in_errors=True)

    api_key: SecretStr | None = Field(default=None, description="kie.ai API key.")
    base_url: str = Field(default="https://api.kie.ai", description="kie.ai API base URL.")
    upload_base_url: str = Field(
        default="https://kieai.redpandaai.co", description="kie.ai file upload base URL."
    )
    input_dirs: str | None = Field(
        default=None,
        description="Folders local reference images may come from, separated by the OS path "
        "separator. Default: the data folder and your home folder.",
    )
    public_url: str | None = Field(
        default=None,
        description="Public base URL that reaches the webhook sidecar (tunnel or reverse proxy). "
        "Unset: jobs finish by polling.",
    )
    webhook_hmac_key: SecretStr | None = Field(
        default=None,
        description="kie.ai's webhookHmacKey (https://kie.ai/settings). Set: every callback must "
        "carry a valid X-Webhook-Signature from the last 5 minutes, or it is refused (401).",
    )
    webhook_host: str = Field(default="127.0.0.1", description="Sidecar bind address.")
    webhook_port: int = Field(default=8787, ge=0, le=65535, description="Sidecar port (0: any).")
    http_token: SecretStr | None = Field(
        default=None,
        description="When set, required as a bearer token by the local media, events and MCP "
        "HTTP routes (from anywhere). Unset: those routes answer only direct local requests.",
    )
    http_allowed_hosts: str = Field(
        default="",
        description="With --http: extra Host names (comma-separated) the MCP endpoint accepts "
        "besides localhost, e.g. a LAN name. Requests from other machines also need "
        "KIE_HTTP_TOKEN.",
    )
    http_cors_origins: str = Field(
        default="",
        description="Web origins (comma-separated, exact, e.g. https://canvas.example) whose pages "
        "may call /mcp, /events and /media from a browser (CORS). The token rules still apply.",
    )
    data_dir: Path | None = Field(default=None, description="Where the database and media live.")
    database_url: str | None = Field(
        default=None,
        description="The job database: unset for SQLite in the data folder (one machine), a "
        "file path, or postgresql://user:password@host:port/db to share one database between "
        "several processes or replicas (needs the postgres extra: pip install "
        "'mcp-server-kie[postgres]').",
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a job's lease (who refreshes and downloads it) outlives a "
        "process that died holding it; then another process or replica takes the job over.",
    )
    orphan_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How old a stored file no asset refers to (left by a process killed while "
        "storing a job) must be before the sweep removes it; the sweep runs this often.",
    )
    media_url: str | None = Field(
        default=None,
        description="Where finished media are stored: unset (the data folder's media/), a "
        "folder path, or s3://bucket/prefix for any S3-compatible store (configured by "
        "AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).",
    )
    mcp_server_name: str = Field(
        default=APP_NAME,
        min_length=1,
        max_length=100,
        description="The name this MCP server reports (serverInfo) and seals into its "
        "multi-round-trip request state as the audience: the same on every replica.",
    )
    request_state_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated secrets (each at least 32 characters) sealing MCP's "
        "multi-round-trip requestState; the first seals, all unseal (rotation). Unset: a key "
        "made at start that only this process knows. Several replicas: the same on each.",
    )
    sandbox: bool = Field(default=False, description="Use the embedded kie.ai simulator.")
    sandbox_callbacks: bool = Field(
        default=True,
        description="In sandbox mode, let the simulator call the sidecar's webhook (else: poll).",
    )
    sandbox_image_seconds: float = Field(default=2.0, ge=0)
    sandbox_video_seconds: float = Field(default=6.0, ge=0)
    max_wait_seconds: float = Field(
        default=45.0, ge=0, le=55, description="Upper bound for any tool's wait."
    )
    max_credits_per_job: float | None = Field(
        default=None, ge=0, description="Refuse any job expected to cost more credits than this."
    )
    max_credits_per_day: float | None = Field(
        default=None,
        ge=0,
        description="Refuse a job that would take the last 24 hours' credits over this.",
    )
    request_timeout: float = Field(default=30.0, gt=0, description="kie.ai API request timeout.")
    create_limit: int = Field(
        default=20,
        ge=1,
        description="New kie.ai tasks this account may start per 10 s (kie's default is 20; its "
        "support can raise it). Excess jobs wait for a slot instead of failing.",
    )
    live_catalogue: bool | None = Field(
        default=None,
        description="Refresh the model catalogue from kie.ai's discovery endpoints (cached for "
        "live_catalogue_ttl seconds; the committed file when kie.ai is unreachable). Default: on "
        "with kie.ai's own API, off with another base URL (a sandbox or mirror).",
    )
    live_catalogue_ttl: float = Field(
        default=6 * 3600.0, gt=0, description="Seconds a fetched model catalogue stays fresh."
    )
    status_limit: int = Field(
        default=10, ge=1, description="kie.ai status queries this account may make per second."
    )
    image_deadline_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Fail an image job kie.ai has not finished this long after it was started "
        "(kie suggests giving up on a task after 10-15 minutes).",
    )
    video_deadline_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Fail a video job kie.ai has not finished this long after it was started.",
    )
    media_allow_hosts: str | None = Field(
        default=None,
        description="Comma-separated host or host:port entries that result downloads may reach "
        "despite the SSRF policy (any scheme, any address), e.g. a local mirror. The kie.ai API "
        "host (and the sandbox) is always allowed.",
    )
    max_image_bytes: int = Field(
        default=50 * 1024 * 1024, gt=0, description="Largest image download, in bytes."
    )
    max_video_bytes: int = Field(
        default=1024 * 1024 * 1024, gt=0, description="Largest video download, in bytes."
    )
    image_download_seconds: float = Field(
        default=60.0, gt=0, description="Deadline for one image download, retries included."
    )
    video_download_seconds: float = Field(
        default=300.0, gt=0, description="Deadline for one video download, retries included."
    )
    download_read_timeout: float = Field(
        default=30.0, gt=0, description="Longest silence from a file host before a retry."
    )
    event_loop: Literal["auto", "asyncio"] = Field(
        default="auto",
        description="auto: uvloop where it is installed (Linux, macOS); asyncio: the standard one.",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_unset(cls, values: Any) -> Any:
        """A blank value, or an unsubstituted ``${...}`` placeholder, means "not set"."""
        if isinstance(values, dict):
            return {
                name: value
                for name, value in values.items()
                if not (isinstance(value, str) and _UNSET.fullmatch(value))
            }
        return values

    @field_validator("public_url", "base_url", "upload_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip().rstrip("/")
        return cleaned or None

    @field_validator("media_allow_hosts")
    @classmethod
    def _check_hosts(cls, value: str | None) -> str | None:
        if value is not None:
            parse_allow_hosts(value.split(","))  # raises ValueError naming the bad entry
        return value

    @field_validator("request_state_keys")
    @classmethod
    def _check_state_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [key.strip() for key in value.get_secret_value().split(",")]
        short = [str(n + 1) for n, key in enumerate(keys) if len(key.encode()) < 32]
        if short:  # never echo the keys themselves
            raise ValueError(
                f"KIE_REQUEST_STATE_KEYS: key {', '.join(short)} of {len(keys)} is shorter than "
                "32 characters; make one with: python -c 'import secrets; "
                "print(secrets.token_hex(32))'"
            )
        return value

    def request_state_key_list(self) -> list[str]:
        """The request-state keys in clear (the first seals), for the MCP server's builder."""
        if self.request_state_keys is None:
            return []
        return [key.strip() for key in self.request_state_keys.get_secret_value().split(",")]

    @property
    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        base = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return base / "sandbox" if self.sandbox else base

    @property
    def allowed_input_dirs(self) -> list[Path]:
        if self.input_dirs:
            return [Path(p).expanduser() for p in self.input_dirs.split(os.pathsep) if p.strip()]
        return [self.resolved_data_dir, Path.home()]

    @property
    def database_path(self) -> Path:
        return self.resolved_data_dir / "kie.sqlite3"

    @property
    def media_dir(self) -> Path:
        return self.resolved_data_dir / "media"

    def extra_http_hosts(self) -> list[str]:
        return [host.strip() for host in self.http_allowed_hosts.split(",") if host.strip()]

    def cors_origins(self) -> list[str]:
        return [
            origin.strip().rstrip("/")
            for origin in self.http_cors_origins.split(",")
            if origin.strip()
        ]

    def api_key_value(self) -> str | None:
        """The key in clear, for the one place that sends it (the kie client's header)."""
        if self.sandbox:
            return SANDBOX_API_KEY
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            return None
        return self.api_key.get_secret_value().strip()

    def webhook_hmac_key_value(self) -> str | None:
        """The webhook HMAC key in clear, for the callback verifier (and the sandbox signer)."""
        if self.webhook_hmac_key is None:
            return None
        return self.webhook_hmac_key.get_secret_value().strip() or None


MISSING_KEY_MESSAGE = (
    "No kie.ai API key is configured. Create one at https://kie.ai/api-key and set it as "
    'KIE_API_KEY in the MCP server\'s environment (for Claude Desktop: the "env" block of this '
    "server in claude_desktop_config.json), then restart the server. To try the server without "
    "an account, start it with --sandbox (or KIE_SANDBOX=1)."
)


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, for an entry point: a bad value stops the program with one line naming
    each variable at fault and what it accepts, not a traceback (and never the value: several
    settings are secrets)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        faults = "; ".join(
            f"KIE_{'_'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}:"
            f" {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"mcp-server-kie cannot start: {faults}") from None
