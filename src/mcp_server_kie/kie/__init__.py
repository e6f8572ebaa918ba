"""kie.ai: the only code that knows kie.ai's wire format.

Upward it speaks domain words (task ids, `TaskSnapshot`, `CallbackNotice`, credits) and raises
the `KieError` family. Modules:

- `client`    KieClient: HTTP calls over the shared httpx2.AsyncClient, one attempt each.
- `wire`      the {code, msg, data} envelope, code -> exception mapping, text cleaning.
- `errors`    the exception family.
- `market`    the Market jobs family (createTask / recordInfo), pure.
- `callbacks` callback bodies -> CallbackNotice, pure.
- `signing`   webhook HMAC signatures, pure.

Adding a family (4o Image, Veo, Runway): a new pure module beside `market` with its paths,
`create_body`, `created_task_id` and `parse_record` -> TaskSnapshot, plus two thin KieClient
methods that call `KieClient._call` with them.
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
