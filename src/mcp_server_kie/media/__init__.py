"""The media library: safe downloads, file descriptions and previews, layout on disk."""

from mcp_server_kie.media.describe import MediaInfo, describe
from mcp_server_kie.media.errors import DownloadError
from mcp_server_kie.media.fetch import Fetcher, FetchLimits, Refresh, StoredFile
from mcp_server_kie.media.ssrf import SsrfPolicy, origin_of, parse_allow_hosts
from mcp_server_kie.media.thumbnail import write_preview

__all__ = [
    "DownloadError",
    "FetchLimits",
    "Fetcher",
    "MediaInfo",
    "Refresh",
    "SsrfPolicy",
    "StoredFile",
    "describe",
    "origin_of",
    "parse_allow_hosts",
    "write_preview",
]
