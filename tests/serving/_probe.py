"""Run in a fresh process: serve ``hookline.toml`` (argv[1]) with uvicorn on loopback,
send the requests in the JSON file argv[2] (``[[method, path, body], ...]``), and print one
JSON line: the answers, which heavy modules this process imported, and timings.

The requests are sent from a thread of this very process, so ``sys.modules`` is the
serving process's own."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

START = time.perf_counter()
HEAVY = ("sklearn", "scipy", "pandas", "skops")


def call(base: str, method: str, path: str, body: object) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        base + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def main() -> None:
    import uvicorn
    from hookline.adapters.serving import create_app

    with open(sys.argv[2]) as f:
        requests = json.load(f)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(sys.argv[1], environ={})
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.005)
    base = f"http://127.0.0.1:{port}"
    answers = [call(base, method, path, body) for method, path, body in requests]
    first = time.perf_counter() - START
    server.should_exit = True
    thread.join(10)
    print(
        json.dumps(
            {
                "answers": answers,
                "heavy": sorted(m for m in HEAVY if m in sys.modules),
                "first_answer_seconds": first,
            }
        )
    )


if __name__ == "__main__":
    main()
