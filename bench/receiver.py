"""The webhook benchmark's peer processes: a receiver, and the bare sender that sets the limit.

``python -m bench.receiver serve --port P`` serves 127.0.0.1:P with aiohttp. Every POST, to any
path, is answered ``200 ok`` at once after its body is read; the receiver records the
``webhook-id`` header, the path and ``time.time()`` of receipt. ``GET /_bench/stats`` answers
``{"requests": n, "distinct": d}`` (d: distinct (webhook-id, path) pairs) for polling,
``GET /_bench/records`` every record since the last ``POST /_bench/reset`` as
``[[webhook_id, path, time], ...]``.

``python -m bench.receiver post --bodies FILE --connections C`` is the bare sender: one asyncio
process with one pooled ``aiohttp.ClientSession`` posting every body of FILE (JSON lines of
``{"url", "headers", "body"}``, built beforehand) with at most C requests in flight; it prints
``{"posts", "ok", "wall_s", "first_s", "last_s", "errors"}`` as one line of JSON. Neither
signs, stores nor queues anything: the difference to Waybill's rate is what Waybill costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

HOST = "127.0.0.1"
PREFIX = "/_bench/"


class Receiver:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, float]] = []
        self.seen: set[tuple[str, str]] = set()

    async def hook(self, request: web.Request) -> web.Response:
        await request.read()
        received = time.time()
        msg_id = request.headers.get("webhook-id", "")
        self.records.append((msg_id, request.path, received))
        self.seen.add((msg_id, request.path))
        return web.Response(text="ok")

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": len(self.records), "distinct": len(self.seen)})

    async def dump(self, request: web.Request) -> web.Response:
        return web.json_response(self.records)

    async def reset(self, request: web.Request) -> web.Response:
        self.records, self.seen = [], set()
        return web.json_response({"requests": 0, "distinct": 0})


def serve(port: int) -> None:
    receiver = Receiver()
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_get(PREFIX + "stats", receiver.stats)
    app.router.add_get(PREFIX + "records", receiver.dump)
    app.router.add_post(PREFIX + "reset", receiver.reset)
    app.router.add_post("/{tail:.*}", receiver.hook)
    # No access log: it would cost the receiver more than answering does.
    web.run_app(
        app,
        host=HOST,
        port=port,
        access_log=None,
        print=None,
        handle_signals=True,
        shutdown_timeout=2,
        backlog=1024,
    )


async def _post_all(items: list[dict[str, Any]], connections: int, timeout_s: float) -> dict:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    ok = 0
    errors: list[str] = []
    first = last = 0.0
    queue = iter(items)

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal ok, last
        for item in queue:
            try:
                async with session.post(
                    item["url"], data=item["body"], headers=item["headers"], allow_redirects=False
                ) as response:
                    await response.content.read(1024)
                    if 200 <= response.status < 300:
                        ok += 1
                    elif len(errors) < 5:
                        errors.append(f"HTTP {response.status}")
            except (aiohttp.ClientError, TimeoutError) as exc:
                if len(errors) < 5:
                    errors.append(f"{type(exc).__name__}: {exc}")
            last = time.time()

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        first = time.time()
        began = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(connections)))
        wall = time.perf_counter() - began
    return {
        "posts": len(items),
        "ok": ok,
        "wall_s": wall,
        "first_s": first,
        "last_s": last,
        "errors": errors,
    }


def post(bodies: str, connections: int, timeout_s: float) -> None:
    with open(bodies, encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle if line.strip()]
    for item in items:
        item["body"] = item["body"].encode("utf-8")
    result = asyncio.run(_post_all(items, connections, timeout_s))
    print(json.dumps(result), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_args = commands.add_parser("serve", help="receive webhooks on 127.0.0.1")
    serve_args.add_argument("--port", type=int, required=True)
    post_args = commands.add_parser("post", help="post prepared bodies, as fast as possible")
    post_args.add_argument("--bodies", required=True, help="JSON lines of {url, headers, body}")
    post_args.add_argument("--connections", type=int, default=100)
    post_args.add_argument("--timeout", type=float, default=10.0, help="per request (10 s)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
    else:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        post(args.bodies, max(1, args.connections), args.timeout)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
