"""``hookline ui``: serve the dashboard over a storage root (entry point ``hookline.commands``).

Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

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
        type=int,
        default=8765,
        help="port to listen on (default 8765; 0 picks a free one)",
    )
    ui.set_defaults(func=cmd_ui)


def _config(args: argparse.Namespace) -> object | None:
    """The project config, or ``None`` when only ``--storage`` was given and no
    ``hookline.toml`` is around."""
    from hookline.config import CONFIG_FILE, ENV_CONFIG, load_config
    from hookline.errors import UsageError

    if args.config or os.environ.get(ENV_CONFIG) or os.path.exists(CONFIG_FILE):
        if args.storage:
            os.environ["HOOKLINE_STORAGE"] = args.storage
        return load_config(args.config)
    if not args.storage:
        raise UsageError(
            "no hookline.toml here and no --storage given",
            hint="pass --config FILE or --storage URI (a folder, s3://, gs://, az://)",
        )
    return None


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
    from hookline.adapters.dashboard._app import create_app
    from hookline.adapters.dashboard._auth import Auth, load_keys
    from hookline.config import Config
    from hookline.registry import actor
    from hookline.storage import open_storage

    config = _config(args)
    assert config is None or isinstance(config, Config)
    storage = open_storage(args.storage or config.storage)  # type: ignore[union-attr]
    env_name = (
        config.section("serving").get("api_keys_env") if config else None
    ) or "HOOKLINE_API_KEYS"
    keys = load_keys(env_name)
    local = actor() if not keys and _loopback(args.host) else None
    app = create_app(storage, config=config, auth=Auth(keys, local_operator=local))
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    if keys:
        mode = f"log in with a key from ${env_name}"
    elif local:
        mode = f"no API key configured: actions recorded as {local!r} (loopback only)"
    else:
        mode = f"read-only: set ${env_name} to enable approve/promote/rollback"
    print(f"hookline ui: {storage.uri} at http://{shown}:{port}/ ({mode})", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("hookline ui: stopped", file=sys.stderr)
    return 0
