"""The conditions of the prose rules table (`rules`): one `Rule` refuses a request for one of
its models when every condition holds. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class _Present:
    def __repr__(self) -> str:
        return "PRESENT"


class _Sent:
    def __repr__(self) -> str:
        return "SENT"


PRESENT = _Present()
SENT = _Sent()


@dataclass(frozen=True, slots=True)
class Outside:
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class LongerThan:
    limit: int


Condition = tuple[Any, ...] | _Present | _Sent | Outside | LongerThan


@dataclass(frozen=True, slots=True)
class Rule:
    models: tuple[str, ...]
    when: Mapping[str, Condition]
    refuse: Mapping[str, Condition]
    message: str  # what is wrong and what is allowed instead
    sentence: str  # kie's own words
    url: str  # where kie says it

    @property
    def fields(self) -> set[str]:
        return set(self.when) | set(self.refuse)

    def breaks(self, values: Mapping[str, Any], request: Mapping[str, Any] | None = None) -> bool:
        """Whether `values` (the request over the model's defaults) break the rule; `request`
        (default: `values`) is what the caller sent itself, for `SENT`."""
        sent = values if request is None else request
        conditions = {**self.when, **self.refuse}
        return all(
            _holds(cond, (sent if isinstance(cond, _Sent) else values).get(name))
            for name, cond in conditions.items()
        )


def _holds(condition: Condition, value: Any) -> bool:
    given = value is not None and value != "" and value != []
    if isinstance(condition, _Present | _Sent):
        return given
    if isinstance(condition, LongerThan):
        return _characters(value) > condition.limit
    if isinstance(condition, Outside):
        return given and value not in condition.values
    return value in condition if given else None in condition


def _characters(value: Any) -> int:
    """The characters of a text, or of a list of lines' `text` fields added up."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_characters(item.get("text")) for item in value if isinstance(item, dict))
    return 0
