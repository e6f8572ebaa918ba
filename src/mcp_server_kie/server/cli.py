"""Entry points: the stdio MCP server (default), `demo`, `doctor` and `install`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sqlite3
import ssl
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mcp_server_kie import __version__
from mcp_server_kie.config import Settings, settings_or_exit
from mcp_server_kie.redaction import RedactingFormatter
from mcp_server_kie.server.hosts import HOSTS
from mcp_server_kie.storage.failures import explain_storage_failure

log = logging.getLogger("mcp_server_kie")


def main(argv: Sequence[str] | None = None) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--sandbox", action="store_true", help="use the embedded kie.ai simulator (no account)"
    )
    common.add_argument("--data-dir", type=Path, help="database and media folder (KIE_DATA_DIR)")
    common.add_argument("--log-level", help="DEBUG, INFO, WARNING... (KIE_LOG_LEVEL)")
    parser = argparse.ArgumentParser(
        prog="mcp-server-kie",
        description="MCP server for image and video generation through kie.ai.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser(
        "serve", parents=[common], help="run the MCP server over stdio (the default)"
    )
    for target in (parser, serve):
        target.add_argument(
            "--http",
            action="store_true",
            help="serve MCP over streamable HTTP at /mcp on the sidecar's port instead of stdio",
        )
        target.add_argument("--host", help="address to listen on (KIE_WEBHOOK_HOST)")
        target.add_argument("--port", type=int, help="port to listen on (KIE_WEBHOOK_PORT)")
    commands.add_parser(
        "demo",
        parents=[common],
        help="start the server in sandbox mode and generate an image and a video",
    )
    doctor = commands.add_parser(
        "doctor",
        parents=[common],
        help="check the API key, data directory, webhook port and public URL; print host "
        "configuration snippets",
    )
    doctor.add_argument("--port", type=int, help="webhook port to check (KIE_WEBHOOK_PORT)")
    install = commands.add_parser(
        "install",
        parents=[common],
        help="add this installation to an MCP host's configuration file (with a backup)",
    )
    install.add_argument("host", choices=list(HOSTS), help="the MCP host to configure")
    install.add_argument(
        "--dry-run", action="store_true", help="print the change as a diff and write nothing"
    )
    install.add_argument("--name", default="kie", help="the server's name in the host (kie)")
    args = parser.parse_args(argv)

    # Starting the server imports and builds ~150,000 objects that live as long as it does: the
    # collector's passes over them while they are made cost ~10% of the start. It is off until
    # the runtime has frozen them (``_serve``); ``python -m`` turns it off before any import.
    if args.command in (None, "serve"):
        gc.disable()
    else:
        gc.enable()
    quiet = args.command == "doctor"  # a report on stdout, not the server's start-up log
    _configure_logging(
        args.log_level or os.environ.get("KIE_LOG_LEVEL") or ("WARNING" if quiet else "INFO")
    )
    if args.command == "install":
        from mcp_server_kie.server.install import run_install

        extra = ["--data-dir", str(args.data_dir.expanduser().absolute())] if args.data_dir else []
        sys.exit(
            run_install(
                args.host,
                sandbox=args.sandbox,
                dry_run=args.dry_run,
                name=args.name,
                extra_args=extra,
            )
        )
    if args.command == "demo":
        from mcp_server_kie.server.demo import run_demo
        from mcp_server_kie.server.runtime import run

        sys.exit(run(run_demo(args.data_dir)))

    overrides: dict[str, object] = {}
    if args.sandbox:
        overrides["sandbox"] = True
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if getattr(args, "host", None):
        overrides["webhook_host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["webhook_port"] = args.port
    settings = settings_or_exit(**overrides)
    if args.command == "doctor":
        from mcp_server_kie.server.doctor import run_doctor
        from mcp_server_kie.server.runtime import run

        sys.exit(run(run_doctor(settings), settings.event_loop))
    from mcp_server_kie.server.ports import PortTakenError

    tls = _load_trust_store()
    from mcp_server_kie.server.runtime import run  # the rest of the server, meanwhile

    try:
        with contextlib.suppress(KeyboardInterrupt):
            serving = _serve(settings, http=bool(getattr(args, "http", False)), tls=tls)
            run(serving, settings.event_loop)
    except PortTakenError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)


def _load_trust_store() -> Future[ssl.SSLContext]:
    """The certificates kie's API and the downloads trust, loaded on a thread: OpenSSL reads
    them (~30-50 ms) with the GIL released, on the other core, while this one imports the MCP
    SDK and the rest of the server."""
    import httpx2  # loaded already, with the settings' SSRF policy

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-store")
    try:
        return pool.submit(httpx2.create_ssl_context)
    finally:
        pool.shutdown(wait=False)


async def _serve(settings: Settings, *, http: bool, tls: Future[ssl.SSLContext]) -> None:
    from mcp_server_kie.server.app import build_server
    from mcp_server_kie.server.runtime import open_runtime
    from mcp_server_kie.server.stdio import serve_stdio

    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main_task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            trusted = await asyncio.wrap_future(tls)
            async with open_runtime(settings, mcp_http=http, tls=trusted) as runtime:
                gc.enable()  # what start-up built is frozen now (open_runtime)
                if http:
                    log.info("MCP over HTTP at %s/mcp", runtime.sidecar_url)
                    await asyncio.Event().wait()  # until SIGINT/SIGTERM
                else:
                    await serve_stdio(build_server(runtime.tools, runtime.settings))
    except (OSError, sqlite3.Error) as exc:
        explained = explain_storage_failure(exc, settings.database_path)
        if explained is None:
            raise
        raise SystemExit(f"mcp-server-kie cannot start: {explained}") from None


def _configure_logging(level: str) -> None:
    """Everything goes to stderr: in stdio mode stdout belongs to the MCP protocol."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx2 logs every request URL at INFO; callback URLs carry tokens, so keep it quiet.
    for noisy in ("httpx2", "httpcore2", "httpcore", "mcp", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
