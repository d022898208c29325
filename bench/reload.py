"""Reload: how long a running exporter takes to reload an unchanged config, and its RSS after.

    .venv/bin/python bench/reload.py [--targets 10000] [--reloads 5] [--edit]
                                     [--old SOURCE_DIR] [--new SOURCE_DIR]

`business-exporter serve` runs --targets HTTP targets every 5 s against a local nginx, scraped
with gzip every few seconds as Prometheus would. Once it has run a while, POST /-/reload is sent
--reloads times for the same, unchanged file (with --edit, a comment is appended to it before
each, so that its targets are unchanged but the file is not); each is timed from the request to
the answer.
RSS is read from /proc before the first reload and after each, with a scrape before every
reading (a scrape builds what the next one reuses). With --old, the same is done first for the
exporter in SOURCE_DIR (a checkout of another commit, run with this .venv), so that both rows
come from one run on one machine; --new runs this tree's row from SOURCE_DIR too (a snapshot,
so that edits made meanwhile do not reach the parsers it starts). Prints a table; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from memory import proc_status
from probe_cost import free_port, running, start_nginx
from scheduling import config_text


@dataclass
class Reading:
    label: str
    before_rss: float
    seconds: list[float]
    after_rss: list[float]


def reload(port: int) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    return time.perf_counter() - started


def scrape(port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def settle(port: int, seconds: float) -> None:
    """Scrape every 2.5 s for `seconds`, as a running Prometheus would."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scrape(port)
        time.sleep(2.5)


def measure(label: str, source: Path | None, config: Path, args: argparse.Namespace) -> Reading:
    port = free_port()
    if source is not None:  # the other checkout's package first on the path, for its children too
        os.environ["PYTHONPATH"] = str(source)
    command = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    command += ["--listen", f"127.0.0.1:{port}", "--web.enable-lifecycle"]
    try:
        # Run from the checkout too: `python -m` puts the working directory first on the path.
        with running(command, port, "business-exporter", cwd=source) as proc:
            settle(port, args.warmup)
            before = proc_status(proc.pid, "VmRSS")
            seconds, after = [], []
            for number in range(args.reloads):
                if args.edit:
                    with config.open("a") as file:
                        file.write(f"# reload {number}\n")
                seconds.append(reload(port))
                settle(port, args.between)
                after.append(proc_status(proc.pid, "VmRSS"))
            return Reading(label, before, seconds, after)
    finally:
        os.environ.pop("PYTHONPATH", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10000)
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before the reloads")
    parser.add_argument("--between", type=float, default=5.0, help="seconds between reloads")
    parser.add_argument("--edit", action="store_true", help="append a comment before each")
    parser.add_argument("--old", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--new", type=Path, help="a checkout of this code, to run it from")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, nginx_port = start_nginx(folder)
        with server:
            config = folder / "targets.yaml"
            config.write_text(config_text(args.targets, "5s", f"http://127.0.0.1:{nginx_port}/"))
            if args.old is not None:
                rows.append(measure(f"old ({args.old.name})", args.old.resolve(), config, args))
            config.write_text(config_text(args.targets, "5s", f"http://127.0.0.1:{nginx_port}/"))
            new = args.new.resolve() if args.new is not None else None
            rows.append(measure("this tree", new, config, args))
    what = "with a comment appended" if args.edit else "unchanged"
    print(f"{args.targets} targets, {args.reloads} reloads of the config, {what}")
    print(
        f"{'code':<22} {'reload median':>14} {'max':>7} {'RSS before':>11} "
        f"{'after 1':>9} {'after last':>11} {'growth':>7}"
    )
    for row in rows:
        growth = (row.after_rss[-1] / row.before_rss - 1) * 100
        print(
            f"{row.label:<22} {statistics.median(row.seconds):>13.2f}s "
            f"{max(row.seconds):>6.2f}s {row.before_rss:>8.1f}MiB {row.after_rss[0]:>6.1f}MiB "
            f"{row.after_rss[-1]:>8.1f}MiB {growth:>6.1f}%"
        )


if __name__ == "__main__":
    main()
