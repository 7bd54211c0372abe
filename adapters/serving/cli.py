"""``hookline serve``: the prediction service on your own machine, with uvicorn.

Registered through the ``hookline.commands`` entry point; FastAPI and uvicorn are imported
only when the command runs.
"""

from __future__ import annotations

import argparse

from hookline.cli import number

__all__ = ["cmd_serve", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the promoted model over HTTP (uvicorn)",
        description="Serve POST /predict, GET /health and GET /model for the "
        "model and alias named in [serving].",
    )
    p.add_argument(
        "--config",
        "-c",
        help="hookline.toml path or URI (default: $HOOKLINE_CONFIG, else ./hookline.toml)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port",
        type=number(int, low=0, high=65_535, what="a port"),
        default=8000,
        help="port to bind (default: 8000)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default: info)",
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run uvicorn until interrupted; the model loads in the background at start-up."""
    from hookline.errors import UsageError

    try:
        import uvicorn
    except ImportError as exc:
        raise UsageError(
            f"hookline serve needs uvicorn: {exc}", hint="pip install 'hookline[serve]'"
        ) from exc
    from hookline.adapters.serving import create_app

    app = create_app(args.config)
    settings = app.state.settings
    print(
        f"serving model {settings.model!r} (alias {settings.alias!r}) on "
        f"http://{args.host}:{args.port}  (docs: /docs)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
