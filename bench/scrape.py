"""Scrape cost: rendering and compressing /metrics for many targets, ours and prometheus_client's.

    .venv/bin/python bench/scrape.py [--targets 1000 10000] [--repeat 3]

Both render the same state table (every target with a few runs behind it, 7 labels a series):
ours with exporter.exposition.MetricsRenderer, piece by piece through a level-1 gzip stream on
the event loop, as the server sends it; prometheus_client's generate_latest with gzip level 9,
as its own handler does.
"loop held" is the longest stretch our render kept the event loop from anything else: what
a due probe waits at most. The outputs are compared byte for byte. Prints a table; asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import time
import zlib

from prometheus_client import generate_latest

from exporter.collector import build_registry
from exporter.config import parse_config
from exporter.exposition import MetricsRenderer
from exporter.plan import compile_plan
from exporter.probes import ProbeResult, Seen
from exporter.runtime import Runtime
from exporter.server import GZIP_LEVEL, GZIP_WBITS
from exporter.state import TargetState

# What an HTTPS target's response came over: its info series and its certificate expiry.
SEEN = Seen("HTTP/1.1", "TLS 1.3", 1893456000.0)


def runtime_with(targets: int) -> Runtime:
    lines = ["targets:"]
    for i in range(targets):
        lines.append(
            f"  - {{name: t{i}, severity: medium, context: bench, service: s{i % 20}, "
            f'tenant: tenant{i % 100}, tier: enterprise, http: {{url: "http://127.0.0.1:1/"}}}}'
        )
    config = parse_config("\n".join(lines) + "\n")
    runtime = Runtime(config, None)
    runtime.scheduler.states = {t.name: TargetState(compile_plan(t)) for t in config.targets}
    now = time.time()
    for i, state in enumerate(runtime.scheduler.states.values()):
        for run in range(5):
            ok = (i + run) % 7 != 0
            result = (
                ProbeResult.ok(http_status_code=200, seen=SEEN)
                if ok
                else ProbeResult.failed("timeout", "")
            )
            state.record(result, 0.001 * (run + 1) * (i % 13 + 1), now + run)
    return runtime


async def ours(runtime: Runtime, renderer: MetricsRenderer) -> tuple[float, float, float, bytes]:
    """(render seconds, gzip seconds, longest loop hold, body)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def watch() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    watcher = asyncio.create_task(watch())
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    pieces: list[bytes] = []
    zipping = 0.0
    started = time.perf_counter()
    async for piece in renderer.chunks(runtime):
        pieces.append(piece)  # kept for the byte comparison only; the server sends it on
        before = time.perf_counter()
        compressor.compress(piece)
        zipping += time.perf_counter() - before
    compressor.flush()
    total = time.perf_counter() - started
    done.set()
    await watcher
    return total - zipping, zipping, max(gaps, default=0.0), b"".join(pieces)


def theirs(runtime: Runtime) -> tuple[float, float, bytes]:
    started = time.perf_counter()
    body = generate_latest(build_registry(runtime))
    rendered = time.perf_counter()
    gzip.compress(body, 9)
    return rendered - started, time.perf_counter() - rendered, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'targets':>8} {'renderer':<22} {'render':>8} {'gzip':>7} {'total':>7} "
        f"{'loop held':>10} {'size':>8} {'same bytes':>10}"
    )
    for targets in args.targets:
        runtime = runtime_with(targets)
        renderer = MetricsRenderer()
        asyncio.run(renderer.render(runtime))  # the label cache is warm after the first scrape
        mine = [asyncio.run(ours(runtime, renderer)) for _ in range(args.repeat)]
        reference = [theirs(runtime) for _ in range(args.repeat)]
        same = mine[0][3] == reference[0][2]
        render = statistics.median(m[0] for m in mine)
        zip_ = statistics.median(m[1] for m in mine)
        hold = statistics.median(m[2] for m in mine)
        size = len(mine[0][3]) / 1e6
        print(
            f"{targets:>8} {'business_exporter':<22} {render:>7.3f}s {zip_:>6.3f}s "
            f"{render + zip_:>6.3f}s {hold * 1000:>8.1f}ms {size:>6.1f}MB {same!s:>10}"
        )
        render = statistics.median(r[0] for r in reference)
        zip_ = statistics.median(r[1] for r in reference)
        print(
            f"{targets:>8} {'generate_latest+gzip 9':<22} {render:>7.3f}s {zip_:>6.3f}s "
            f"{render + zip_:>6.3f}s {(render) * 1000:>8.1f}ms {size:>6.1f}MB"
        )


if __name__ == "__main__":
    main()
