"""The running exporter: its config file, the scheduler, and the outcome of reloads."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from exporter.config import Config, ConfigError
from exporter.config.isolated import load_config_isolated
from exporter.heap import HeapSettler, settle_delay
from exporter.ondemand import OnDemandProbes
from exporter.scheduler import Scheduler
from exporter.sharding import Shard
from exporter.web import DEFAULT_MAX_PENDING_PROBES

log = logging.getLogger(__name__)


class Runtime:
    """Owns the live config. A reload that fails keeps the old config running."""

    def __init__(
        self,
        config: Config,
        config_path: Path | None,
        max_concurrency: int = 500,
        shard: Shard | None = None,
        adjust: Callable[[Config], Config] | None = None,
        *,
        max_pending_probes: int = DEFAULT_MAX_PENDING_PROBES,
    ) -> None:
        """`adjust` is applied to every reloaded config, as its caller did to `config`."""
        self.config = config
        self.config_path = config_path
        self.shard = shard
        self._adjust = adjust
        self.scheduler = Scheduler(max_concurrency)
        self.on_demand = OnDemandProbes(self.scheduler, max_pending_probes)
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads = {"success": 0, "failure": 0}
        self._reloading = asyncio.Lock()
        self._pending: set[asyncio.Task[ConfigError | None]] = set()
        self._heap = HeapSettler()

    def start(self) -> None:
        """Start the scheduler; call from the event loop."""
        self.scheduler.apply(self._mine(self.config))
        self._heap.settle_later(settle_delay(self.config))
        where = f" (shard {self.shard} of {len(self.config.targets)})" if self.shard else ""
        log.info("probing %d targets%s", len(self.scheduler.states), where)

    async def stop(self) -> None:
        self._heap.thaw()
        await self.on_demand.stop()
        await self.scheduler.stop()

    async def reload(self) -> ConfigError | None:
        """Read the config file again and apply it; on error keep the old one and say why."""
        if self.config_path is None:
            return ConfigError([], "<no config file>")
        async with self._reloading:  # one at a time, applied in the order they were asked
            return self._apply(await asyncio.to_thread(_load, self.config_path))

    def reload_soon(self) -> None:
        """Reload from a signal handler: run reload() as a task that is kept until it ends."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _apply(self, loaded: Config | ConfigError) -> ConfigError | None:
        if isinstance(loaded, ConfigError):
            self.last_reload_successful = False
            self.reloads["failure"] += 1
            log.error("config reload failed, keeping the running config:\n%s", loaded)
            return loaded
        if self._adjust is not None:
            loaded = self._adjust(loaded)
        self.config = loaded
        self._heap.thaw()  # the old config's objects must be collectable again
        self.scheduler.apply(self._mine(loaded))
        self._heap.settle_later(settle_delay(loaded))
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads["success"] += 1
        log.info("config reloaded: %d targets", len(loaded.targets))
        return None

    def _mine(self, config: Config) -> Config:
        mine = config if self.shard is None else self.shard.select(config)
        _warn_if_undersized(mine, self.scheduler.max_concurrency)
        return mine

    @property
    def ready(self) -> bool:
        return self.scheduler.running


def worst_case_in_flight(config: Config) -> float:
    """Probes in flight if every target hung until its timeout: sum of timeout / interval."""
    return sum(t.timeout / t.interval for t in config.targets)


def _warn_if_undersized(config: Config, limit: int) -> None:
    needed = worst_case_in_flight(config)
    if needed > limit:
        log.warning(
            "if every target timed out, %d probes would be in flight, above "
            "--max-concurrent-probes %d: healthy targets would then wait behind hung ones "
            "and miss runs",
            round(needed),
            limit,
        )


def _load(path: Path) -> Config | ConfigError:
    # Parsing a large config takes seconds and peaks at several times the memory the config
    # keeps: it runs in a child process, waited for in a worker thread so that the event
    # loop keeps starting probes meanwhile, and comes back here as a value.
    try:
        return load_config_isolated(path)
    except ConfigError as err:
        return err
