"""The media library: safe downloads, file descriptions, layout on disk."""

from mcp_server_kie.media.describe import MediaInfo, describe
from mcp_server_kie.media.fetch import DownloadError, Fetcher, StoredFile

__all__ = ["DownloadError", "Fetcher", "MediaInfo", "StoredFile", "describe"]
