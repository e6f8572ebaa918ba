"""kie.ai: the only code that knows kie.ai's wire format.

Upward it speaks domain words (task ids, `TaskSnapshot`, `CallbackNotice`, credits) and raises
the `KieError` family. Modules:

- `client`    KieClient: family-generic create/get, Veo 1080p, uploads, credits, download links.
- `exchange`  one HTTP exchange: headers, no redirects, capped read, network errors, envelope.
- `wire`      the {code, msg, data} envelope, text cleaning, URL lists, snake -> wire mapping.
- `errors`    the exception family.
- `families`  ApiFamily -> paths, create-body builder, record parser, error reading.
- `market`, `gpt4o`, `flux`, `veo`, `veo_followups`, `runway`, `aleph`, `suno`  one pure
  module per API family (`veo_followups`: Veo extend, 1080p and 4K; `runway` has its extend).
- `upload`    the File Upload API's multipart form and reply, pure.
- `callbacks` callback bodies of every family -> CallbackNotice, pure.
- `signing`   webhook HMAC signatures, pure.

Adding a family: a pure module with its paths, a `FIELDS` table (snake_case -> wire name),
`create_body` and `parse_record` -> TaskSnapshot, and an entry in `families.FAMILIES`.
"""

from mcp_server_kie.kie.callbacks import callback_task_id, parse_callback
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import (
    KieAuthError,
    KieCallbackError,
    KieCreditsError,
    KieError,
    KieFeatureDisabledError,
    KieGenerationFailedError,
    KieNotFoundError,
    KieProtocolError,
    KieRateLimitError,
    KieUnavailableError,
    KieUncertainError,
    KieValidationError,
)
from mcp_server_kie.kie.signing import sign, verify_signature

__all__ = [
    "KieAuthError",
    "KieCallbackError",
    "KieClient",
    "KieCreditsError",
    "KieError",
    "KieFeatureDisabledError",
    "KieGenerationFailedError",
    "KieNotFoundError",
    "KieProtocolError",
    "KieRateLimitError",
    "KieUnavailableError",
    "KieUncertainError",
    "KieValidationError",
    "callback_task_id",
    "parse_callback",
    "sign",
    "verify_signature",
]
