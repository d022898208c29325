"""A month of probe history, written as OpenMetrics and served by a real Prometheus.

The series are what the exporter exposes, scraped every 10 minutes, with figures chosen so the
report's answers can be worked out by hand:

- acme (tier gold, 99.9%): one target, 1 run a minute for 30 days = 43,200 runs, 43 failed: 40
  in an incident on day 5 from 10:00 to 10:40 (business_probe_failing 1), and 3 single ones
  that never made the target failing. Availability 43,157 / 43,200 = 0.999005. Of every 10
  runs 9 take at most 0.25 s and 1 at most 0.5 s: the p95 is 0.375 s, all within 0.5 s.
- globex (gold): a shop and a billing target. The shop fails every run on day 20 from 12:00 to
  13:30 (90 runs, an incident). Billing fails every run on day 10 from 02:00 to 04:00, inside
  the maintenance window `billing_migration`: those 120 runs are left out, no incident.
  Availability (86,400 - 120 - 90) / (86,400 - 120) = 0.998957, below the objective.

No recording rule exists: the report reads the raw series only.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from tests.servers import free_port, wait_for

STEP = 600  # seconds between samples
DAYS = 30
RUNS_PER_STEP = 10
BUCKETS = (("0.25", 9), ("0.5", 10), ("1.0", 10), ("+Inf", 10))  # cumulative, of 10 runs


def month_start() -> datetime:
    """Midnight UTC 40 days ago: old enough to be history, within any retention we set."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=40)


def at(start: datetime, day: int, hour: int, minute: int = 0) -> datetime:
    """Day 1 is the first day of the month."""
    return start + timedelta(days=day - 1, hours=hour, minutes=minute)


@dataclass
class Target:
    name: str
    tenant: str
    service: str
    failures: dict[datetime, int] = field(default_factory=dict)  # sample time -> failed runs
    failing: list[tuple[datetime, datetime]] = field(default_factory=list)

    def labels(self) -> str:
        pairs = {
            "probe": self.name,
            "kind": "http",
            "severity": "high",
            "context": "sales",
            "tenant": self.tenant,
            "tier": "gold",
            "service": self.service,
            "job": "business_exporter",
            "instance": "127.0.0.1:9117",
        }
        return ",".join(f'{k}="{v}"' for k, v in pairs.items())


def every_step(start: datetime, first: datetime, last: datetime) -> dict[datetime, int]:
    """All runs of each 10 minutes ending after `first` and at most at `last` fail."""
    out, t = {}, first + timedelta(seconds=STEP)
    while t <= last:
        out[t] = RUNS_PER_STEP
        t += timedelta(seconds=STEP)
    return out


def targets(start: datetime) -> list[Target]:
    acme = Target("acme_shop", "acme", "shop")
    acme.failures = every_step(start, at(start, 5, 10), at(start, 5, 10, 40))
    for day, hour in ((2, 3), (12, 15), (25, 22)):
        acme.failures[at(start, day, hour)] = 1
    acme.failing = [(at(start, 5, 10), at(start, 5, 10, 40))]
    shop = Target("globex_shop", "globex", "shop")
    shop.failures = every_step(start, at(start, 20, 12), at(start, 20, 13, 30))
    shop.failing = [(at(start, 20, 12), at(start, 20, 13, 30))]
    billing = Target("globex_billing", "globex", "billing")
    billing.failures = every_step(start, at(start, 10, 2), at(start, 10, 4))
    billing.failing = [(at(start, 10, 2), at(start, 10, 4))]
    return [acme, shop, billing]


def write_openmetrics(start: datetime, out: TextIO) -> None:
    """Each series in time order, one sample every 10 minutes from `start` for 30 days."""
    times = [start + timedelta(seconds=STEP * i) for i in range(DAYS * 86400 // STEP + 1)]
    for target in targets(start):
        labels = target.labels()
        runs = good = failed = 0
        rows: dict[str, list[str]] = {}
        for i, t in enumerate(times):
            if i:
                runs += RUNS_PER_STEP
                failed += target.failures.get(t, 0)
                good = runs - failed
            stamp = f"{t.timestamp():.0f}"
            failing = int(any(s <= t < e for s, e in target.failing))
            series = {
                f'business_probe_runs_total{{{labels},result="success"}}': good,
                f'business_probe_runs_total{{{labels},result="unexpected_status"}}': failed,
                f"business_probe_duration_seconds_count{{{labels}}}": runs,
                f"business_probe_failing{{{labels}}}": failing,
            }
            for le, share in BUCKETS:
                name = f'business_probe_duration_seconds_bucket{{{labels},le="{le}"}}'
                series[name] = runs // RUNS_PER_STEP * share
            for name, value in series.items():
                rows.setdefault(name, []).append(f"{name} {value} {stamp}\n")
        for lines in rows.values():
            out.writelines(lines)
    out.write("# EOF\n")


@contextlib.contextmanager
def prometheus_with_history(directory: Path, start: datetime) -> Iterator[str]:
    """A real Prometheus serving the month from blocks made by promtool; its base URL."""
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    assert promtool, "`make system-deps` installs the Debian package prometheus"
    assert prometheus, "`make system-deps` installs the Debian package prometheus"
    source, data = directory / "history.om", directory / "data"
    with source.open("w") as out:
        write_openmetrics(start, out)
    subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            "--max-block-duration=744h",
            str(source),
            str(data),
        ],
        check=True,
    )
    (directory / "prometheus.yml").write_text("global: {}\n")
    port = free_port()
    log = (directory / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=3650d",  # the month must not be cut as too old
            f"--web.listen-address=127.0.0.1:{port}",
            # Samples are 10 minutes apart: a gauge stays visible between two of them.
            "--query.lookback-delta=11m",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url) or server.poll() is not None, timeout=30, what="ready")
        assert server.poll() is None, (directory / "prometheus.log").read_text()[-2000:]
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _ready(url: str) -> bool:
    import urllib.request

    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
        return bool(r.status == 200)
    return False
