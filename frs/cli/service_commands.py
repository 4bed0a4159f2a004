"""``frs serve``: the local HTTP service (the API Gateway routes, in-process)."""

from __future__ import annotations

import argparse
import os

from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve the HTTP API locally (like `sam local start-api`)")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(run=_serve)


def _serve(service: FaceService, args: argparse.Namespace) -> None:
    from frs.api.local_server import serve

    # handler.py reads its settings from the environment: pass the CLI's choices on.
    settings = service.settings
    os.environ["FRS_PACK"] = settings.pack
    os.environ["FRS_MODELS_DIR"] = str(settings.models_dir)
    os.environ["FRS_GALLERY_URI"] = settings.gallery_uri
    serve(args.host, args.port)
