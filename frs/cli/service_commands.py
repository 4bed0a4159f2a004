"""``frs serve``: the local HTTP service (the API Gateway routes, in-process)."""

from __future__ import annotations

import argparse

from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve the HTTP API locally (like `sam local start-api`)")
    serve.add_argument("--port", type=int, default=3000, help="TCP port (default 3000)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.set_defaults(run=_serve)


def _serve(service: FaceService, args: argparse.Namespace) -> None:
    from frs.api.app import Application
    from frs.api.local_server import serve

    # The CLI's settings (global options over the environment), models loaded before the port opens.
    serve(Application.loaded(service.settings), args.host, args.port)
