"""``hookline ui``: serve the dashboard over a storage root (entry point ``hookline.commands``).

Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from hookline.cli import number

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``ui`` subcommand."""
    ui = sub.add_parser("ui", help="the dashboard: runs, models, lineage and drift in a browser")
    ui.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="hookline.toml (default: $HOOKLINE_CONFIG or ./hookline.toml; "
        "optional with --storage)",
    )
    ui.add_argument("--storage", metavar="URI", help="storage root URI (default: from the config)")
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every "
        "interface, which requires $HOOKLINE_API_KEYS for actions)",
    )
    ui.add_argument(
        "--port",
        type=number(int, low=0, high=65_535, what="a port"),
        default=8765,
        help="port to listen on (default 8765; 0 picks a free one)",
    )
    ui.set_defaults(func=cmd_ui)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_ui(args: argparse.Namespace) -> int:
    import socket

    import uvicorn
    from hookline.adapters.dashboard._auth import Auth
    from hookline.adapters.dashboard.app import create_app
    from hookline.errors import UsageError
    from hookline.project import Project
    from hookline.registry import actor

    if not args.storage and not args.config and not _has_config():
        raise UsageError(
            "no hookline.toml here and no --storage given",
            hint="pass --config FILE or --storage URI (a folder, s3://, gs://, az://)",
        )
    project = Project.open(args.config, storage=args.storage, require_config=not args.storage)
    env_name = project.config.section("serving").get("api_keys_env") or "HOOKLINE_API_KEYS"
    auth = Auth.from_env(env_name)
    if not auth.required and _loopback(args.host):
        auth = Auth(local_operator=actor())
    app = create_app(project, auth=auth)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    if auth.admin_keys.enabled:
        mode = f"log in with a key from ${env_name} (to look) or $HOOKLINE_ADMIN_KEYS (to act)"
    elif auth.required:
        mode = f"log in with a key from ${env_name}; set $HOOKLINE_ADMIN_KEYS to enable actions"
    elif auth.local_operator:
        mode = f"no API key configured: actions recorded as {auth.actor(auth.new_session())!r}"
        mode += " (loopback only)"
    else:
        mode = "read-only: set $HOOKLINE_ADMIN_KEYS to enable approve/promote/rollback"
    print(f"hookline ui: {project.storage.uri} at http://{shown}:{port}/ ({mode})", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("hookline ui: stopped", file=sys.stderr)
    return 0


def _has_config() -> bool:
    from hookline.config import CONFIG_FILE, ENV_CONFIG

    return bool(os.environ.get(ENV_CONFIG)) or os.path.exists(CONFIG_FILE)
