"""Run in a fresh process by ``frs bench``: import the Lambda handler (INIT) and answer one detect event.

Prints one JSON line with the phase timings measured inside the process, flushed the moment the answer exists:
the parent times process start to that line (the interpreter's start included, its teardown not: a Lambda
process lives on after its first answer).
"""

from __future__ import annotations

import base64
import json
import sys
import time


def main() -> None:
    started = time.perf_counter()
    image = open(sys.argv[1], "rb").read()  # noqa: SIM115 - one read, process exits right after
    import handler  # INIT: imports, pack loading, session creation

    initialised = time.perf_counter()
    result = handler.handler(
        {"action": "detect", "image": {"base64": base64.b64encode(image).decode()}}, None
    )
    answered = time.perf_counter()
    print(
        json.dumps(
            {
                "init_ms": round((initialised - started) * 1000, 1),
                "first_request_ms": round((answered - initialised) * 1000, 1),
                "faces": len(result.get("faces", [])),
                "ok": result.get("ok"),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
