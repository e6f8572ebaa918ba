"""``python -m mcp_server_kie``: the CLI (server.cli). The collector is off from the first import
until the server has started: see server.cli.main."""

import gc

gc.disable()

from mcp_server_kie.server.cli import main  # noqa: E402  (after the collector is off)

if __name__ == "__main__":
    main()
