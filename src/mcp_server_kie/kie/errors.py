"""The exceptions `kie/` raises upward: one small family, messages written for a reader.

Every message is short, says what happened and what to do next, and may quote kie.ai's own
text (cleaned and capped). No message ever contains the API key: the client scrubs it from
anything kie.ai echoes back, and never formats request headers into text.

`retryable` answers one question for the caller: "may the very same request be sent again
later, unchanged, without risk?" It is a class default that a raiser may override.

Code -> class (kie.ai business code, delivered in the body or as the HTTP status):

    400, 422, 451 -> KieValidationError        (request rejected; retrying unchanged fails again)
    401, 433      -> KieAuthError
    402           -> KieCreditsError
    404           -> KieNotFoundError           (only with a body code; a bare HTTP 404 is a
                                                  KieProtocolError: wrong base URL or proxy)
    429           -> KieRateLimitError
    455, 500, 550, other 5xx -> KieUnavailableError
    501           -> KieGenerationFailedError
    505           -> KieFeatureDisabledError    (a KieValidationError: the request cannot
                                                  succeed until kie.ai re-enables the feature)
    anything else, non-JSON replies, missing envelope, wrong data shape -> KieProtocolError
"""

from __future__ import annotations

from typing import ClassVar

BASE_URL_HINT = "Check the kie.ai base URL (normally https://api.kie.ai) and any proxy in between."
_SOON = "Try again shortly."


class KieError(Exception):
    """Base class. `code` is kie.ai's business code when there was one; `provider_message` is
    kie.ai's own `msg`, cleaned, capped and with the key redacted ("" when there was none)."""

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        retryable: bool | None = None,
        provider_message: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.provider_message = provider_message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class KieAuthError(KieError):
    """401 (key missing or wrong) or 433 (this key's usage cap is reached)."""


class KieCreditsError(KieError):
    """402: the account cannot pay for the request."""


class KieValidationError(KieError):
    """400/422/451: kie.ai rejected the request itself. Never retry it unchanged."""


class KieFeatureDisabledError(KieValidationError):
    """505: kie.ai has switched this feature off for now."""


class KieNotFoundError(KieError):
    """404 with a kie.ai body code: no such task or resource."""


class KieRateLimitError(KieError):
    """429: too many requests. `retry_after` comes from a Retry-After header when kie sent one."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        code: int | None = 429,
        retryable: bool | None = None,
        provider_message: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, retryable=retryable, provider_message=provider_message)
        self.retry_after = retry_after


class KieUnavailableError(KieError):
    """kie.ai could not be reached or is not serving (455, 5xx, 550, network errors, timeouts)."""

    default_retryable = True


class KieUncertainError(KieUnavailableError):
    """A create request may have reached kie.ai but no usable answer came back.

    The task may exist and may be charged. Do NOT resubmit blindly: `retryable` is False. If a
    callback URL was sent, kie.ai's callback can still reveal the task id.
    """

    default_retryable = False


class KieGenerationFailedError(KieError):
    """501: kie.ai reports that generation failed."""


class KieProtocolError(KieError):
    """The reply was not kie.ai's JSON envelope, or its data had the wrong shape.

    Usually a wrong base URL, a proxy or captive portal in between, or an API change.
    """


class KieCallbackError(KieProtocolError, ValueError):
    """A callback body we cannot use (no task id, wrong shape). Also a ValueError, so a web
    handler can treat it as bad input (HTTP 400) without importing this family."""


# code -> (exception class, what happened, what to do next)
_CODES: dict[int, tuple[type[KieError], str, str]] = {
    400: (
        KieValidationError,
        "kie.ai rejected the request as invalid",
        "Fix the request; sending it unchanged will fail again.",
    ),
    401: (
        KieAuthError,
        "kie.ai rejected the API key",
        "Check KIE_API_KEY (keys are managed at https://kie.ai/api-key).",
    ),
    402: (
        KieCreditsError,
        "The kie.ai account does not have enough credits for this request",
        "Add credits (prices at https://kie.ai/pricing), then try again.",
    ),
    404: (KieNotFoundError, "kie.ai found no such task or resource", ""),
    405: (KieProtocolError, "kie.ai did not accept the HTTP method", BASE_URL_HINT),
    422: (
        KieValidationError,
        "kie.ai rejected the request's parameters",
        "Fix them; sending the request unchanged will fail again.",
    ),
    429: (
        KieRateLimitError,
        "kie.ai is rate-limiting this account",
        "Slow down: kie.ai allows about 20 new tasks per 10 seconds. Wait a little and retry.",
    ),
    433: (
        KieAuthError,
        "This kie.ai API key has reached its usage limit",
        "Raise the key's limit at https://kie.ai/api-key or wait for it to reset.",
    ),
    451: (
        KieValidationError,
        "kie.ai could not fetch an input file",
        "Make sure every input URL is public and downloadable.",
    ),
    455: (KieUnavailableError, "kie.ai is down for maintenance", "Try again in a few minutes."),
    500: (KieUnavailableError, "kie.ai had an internal server error", _SOON),
    501: (
        KieGenerationFailedError,
        "kie.ai reports that generation failed",
        "Adjust the prompt or inputs, or try another model.",
    ),
    505: (
        KieFeatureDisabledError,
        "This feature is currently disabled on kie.ai",
        "Try another model, or try again later.",
    ),
    550: (
        KieUnavailableError,
        "kie.ai's queue is full and turned the task away",
        "Try again in a minute or two.",
    ),
}


def error_for_code(
    code: int,
    *,
    what: str,
    provider_message: str = "",
    retry_after: float | None = None,
    note: str = "",
) -> KieError:
    """The exception for a kie.ai business code (or an HTTP status standing in for one)."""
    if code in _CODES:
        cls, headline, hint = _CODES[code]
    elif 500 <= code <= 599:
        cls, headline, hint = KieUnavailableError, "kie.ai answered with a server error", _SOON
    else:
        cls, headline, hint = KieProtocolError, "kie.ai answered with an unexpected code", ""
    parts = [f"{headline} ({code}) while {what}{note}."]
    if cls is KieRateLimitError and retry_after is not None:
        hint = f"Wait {retry_after:.0f} s and try again."
    if hint:
        parts.append(hint)
    if provider_message:
        parts.append(f'kie.ai said: "{provider_message}"')
    message = " ".join(parts)
    if cls is KieRateLimitError:
        return KieRateLimitError(
            message, code=code, retry_after=retry_after, provider_message=provider_message
        )
    return cls(message, code=code, provider_message=provider_message)
