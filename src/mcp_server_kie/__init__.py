"""mcp-server-kie: image and video generation through kie.ai for MCP clients."""

__version__ = "0.2.0"
