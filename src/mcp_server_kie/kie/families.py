"""The five kie.ai API families side by side: for each `ApiFamily`, its create and status
paths, its create-body builder, its record parser and how it reads kie's error codes. Pure
data; the client looks them up here.

Snake_case input keys each family accepts (see `FIELDS` in its module):

- Market: passed through unchanged as kie's own `input` object; the model id goes in `model`.
- 4o Image: prompt, size, files_url, file_url (current schema), and the older n_variants,
  is_enhance, mask_url, enable_fallback, fallback_model. No model on the wire.
- Veo: prompt, image_urls, generation_type, aspect_ratio (sent as `aspect_ratio`), resolution,
  duration, watermark, enable_translation; the model id (veo3, veo3_fast, veo3_lite) goes in
  `model`.
- Runway: prompt, image_url, duration, quality, aspect_ratio, water_mark. No model on the wire.
- Suno: prompt, model (the Suno version), custom_mode, instrumental, style, title,
  negative_tags, vocal_gender, style_weight, weirdness_constraint, audio_weight, persona_id,
  persona_model, duration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import ApiFamily, TaskSnapshot
from mcp_server_kie.kie import gpt4o, market, runway, suno, veo
from mcp_server_kie.kie.errors import KieError

CreateBody = Callable[[str, Mapping[str, Any], str | None], dict[str, Any]]
ParseRecord = Callable[[Mapping[str, Any]], TaskSnapshot]
MapError = Callable[[KieError], KieError]


def same_error(error: KieError) -> KieError:
    """The shared reading of kie's codes (every family but Suno)."""
    return error


@dataclass(frozen=True, slots=True)
class FamilyApi:
    """How to create and read a task of one API family."""

    family: ApiFamily
    label: str
    create_path: str
    record_path: str
    create_body: CreateBody
    parse_record: ParseRecord
    map_error: MapError = same_error


FAMILIES: Mapping[ApiFamily, FamilyApi] = MappingProxyType(
    {
        ApiFamily.MARKET: FamilyApi(
            ApiFamily.MARKET,
            "Market",
            market.CREATE_PATH,
            market.RECORD_PATH,
            market.create_body,
            market.parse_record,
        ),
        ApiFamily.GPT4O_IMAGE: FamilyApi(
            ApiFamily.GPT4O_IMAGE,
            gpt4o.LABEL,
            gpt4o.CREATE_PATH,
            gpt4o.RECORD_PATH,
            gpt4o.create_body,
            gpt4o.parse_record,
        ),
        ApiFamily.VEO: FamilyApi(
            ApiFamily.VEO,
            veo.LABEL,
            veo.CREATE_PATH,
            veo.RECORD_PATH,
            veo.create_body,
            veo.parse_record,
        ),
        ApiFamily.RUNWAY: FamilyApi(
            ApiFamily.RUNWAY,
            runway.LABEL,
            runway.CREATE_PATH,
            runway.RECORD_PATH,
            runway.create_body,
            runway.parse_record,
        ),
        ApiFamily.SUNO: FamilyApi(
            ApiFamily.SUNO,
            suno.LABEL,
            suno.CREATE_PATH,
            suno.RECORD_PATH,
            suno.create_body,
            suno.parse_record,
            suno.map_error,
        ),
    }
)


def family_api(family: ApiFamily) -> FamilyApi:
    """The FamilyApi of `family` (its string value is accepted too); ValueError if unknown."""
    try:
        return FAMILIES[ApiFamily(family)]
    except (ValueError, KeyError):
        raise ValueError(f"Unknown kie.ai API family {family!r}") from None
