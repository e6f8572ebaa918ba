"""The media library: safe downloads, file descriptions and previews, layout on disk."""

from mcp_server_kie.media.describe import MediaInfo, describe
from mcp_server_kie.media.errors import DownloadError
from mcp_server_kie.media.fetch import Fetcher, FetchLimits, Refresh, StoredFile
from mcp_server_kie.media.ssrf import SsrfPolicy, origin_of, parse_allow_hosts
from mcp_server_kie.media.store import (
    FilePublisher,
    MediaStore,
    MediaStoreError,
    MissingMedia,
    StoredObject,
    open_media_store,
)
from mcp_server_kie.media.thumbnail import preview_jpeg, write_preview

__all__ = [
    "DownloadError",
    "FetchLimits",
    "Fetcher",
    "FilePublisher",
    "MediaInfo",
    "MediaStore",
    "MediaStoreError",
    "MissingMedia",
    "Refresh",
    "SsrfPolicy",
    "StoredFile",
    "StoredObject",
    "describe",
    "open_media_store",
    "origin_of",
    "parse_allow_hosts",
    "preview_jpeg",
    "write_preview",
]
