"""The kie.ai API families side by side: for each `ApiFamily`, its create and status paths,
its create-body builder, its record parser and how it reads kie's error codes. Pure data; the
client looks them up here.

Snake_case input keys each family accepts (see `FIELDS` in its module):

- Market: passed through unchanged as kie's own `input` object; the model id goes in `model`.
- 4o Image: prompt, size, files_url, file_url (current schema), and the older n_variants,
  is_enhance, mask_url, enable_fallback, fallback_model. No model on the wire.
- Veo: prompt, image_urls, generation_type, aspect_ratio (sent as `aspect_ratio`), resolution,
  duration, watermark, enable_translation; the model id (veo3, veo3_fast, veo3_lite) goes in
  `model`.
- Runway: prompt, image_url, duration, quality, aspect_ratio, water_mark. No model on the wire.
- Flux Kontext: prompt, input_image, aspect_ratio, output_format, prompt_upsampling,
  safety_tolerance, enable_translation, upload_cn, watermark; the model id in `model`.
- Veo extend: task_id, prompt, model (fast, quality, lite), seeds, watermark. Veo 1080p and 4K:
  task_id, index. Runway extend: task_id, prompt, quality, water_mark. `task_id` is always the
  kie task id of the earlier task (`jobs.source_task` finds it from our job id).
- Aleph: prompt, video_url, aspect_ratio, seed, reference_image, water_mark, upload_cn.
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
from mcp_server_kie.kie import aleph, flux, gpt4o, market, runway, suno, veo, veo_followups
from mcp_server_kie.kie.errors import KieError
from mcp_server_kie.kie.wire import created_task_id

CreateBody = Callable[[str, Mapping[str, Any], str | None], dict[str, Any]]
ParseRecord = Callable[[Mapping[str, Any]], TaskSnapshot]
MapError = Callable[[KieError], KieError]
CreatedId = Callable[[Any, Mapping[str, Any]], str | None]  # (reply data, body) -> task id
RecordParams = Callable[[str], dict[str, str]]
Pending = Callable[[KieError], bool]


def created_id(data: Any, body: Mapping[str, Any]) -> str | None:
    """Every family but Veo 1080p: the reply's `data.taskId`."""
    return created_task_id(data)


def by_task_id(task_id: str) -> dict[str, str]:
    """Every family but Veo 1080p: the status query is `?taskId=`."""
    return {"taskId": task_id}


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
    create_method: str = "POST"  # GET sends the built body as the query (Veo 1080p)
    created_id: CreatedId = created_id
    record_params: RecordParams = by_task_id
    # An error that means "accepted, not ready yet" rather than a failure (Veo 1080p).
    pending: Pending = veo_followups.never_pending


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
        ApiFamily.FLUX_KONTEXT: FamilyApi(
            ApiFamily.FLUX_KONTEXT,
            flux.LABEL,
            flux.CREATE_PATH,
            flux.RECORD_PATH,
            flux.create_body,
            flux.parse_record,
            flux.map_error,
        ),
        ApiFamily.VEO_EXTEND: FamilyApi(
            ApiFamily.VEO_EXTEND,
            veo_followups.EXTEND_LABEL,
            veo_followups.EXTEND_PATH,
            veo.RECORD_PATH,
            veo_followups.extend_body,
            veo.parse_record,
        ),
        ApiFamily.VEO_1080P: FamilyApi(
            ApiFamily.VEO_1080P,
            veo_followups.HD_LABEL,
            veo_followups.HD_PATH,
            veo_followups.HD_PATH,
            veo_followups.hd_query,
            veo_followups.parse_hd,
            create_method="GET",
            created_id=veo_followups.hd_created,
            record_params=veo_followups.hd_params,
            pending=veo_followups.hd_pending,
        ),
        ApiFamily.VEO_4K: FamilyApi(
            ApiFamily.VEO_4K,
            veo_followups.UHD_LABEL,
            veo_followups.UHD_PATH,
            veo.RECORD_PATH,
            veo_followups.uhd_body,
            veo.parse_record,
        ),
        ApiFamily.RUNWAY_EXTEND: FamilyApi(
            ApiFamily.RUNWAY_EXTEND,
            runway.EXTEND_LABEL,
            runway.EXTEND_PATH,
            runway.RECORD_PATH,
            runway.extend_body,
            runway.parse_record,
        ),
        ApiFamily.ALEPH: FamilyApi(
            ApiFamily.ALEPH,
            aleph.LABEL,
            aleph.CREATE_PATH,
            aleph.RECORD_PATH,
            aleph.create_body,
            aleph.parse_record,
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


def calls_back(family: ApiFamily) -> bool:
    """Whether kie.ai takes a callBackUrl for this family's requests (not Veo 1080p, which is
    only ever polled): a job of a family that does not is polled from the start."""
    return family is not ApiFamily.VEO_1080P


def family_api(family: ApiFamily) -> FamilyApi:
    """The FamilyApi of `family` (its string value is accepted too); ValueError if unknown."""
    try:
        return FAMILIES[ApiFamily(family)]
    except (ValueError, KeyError):
        raise ValueError(f"Unknown kie.ai API family {family!r}") from None
