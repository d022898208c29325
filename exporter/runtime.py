"""The running exporter: its config file, the scheduler, and the outcome of reloads."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from exporter.config import Config, ConfigError, load_config
from exporter.scheduler import Scheduler

log = logging.getLogger(__name__)


class Runtime:
    """Owns the live config. A reload that fails keeps the old config running."""

    def __init__(
        self, config: Config, config_path: Path | None, max_concurrency: int = 500
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.scheduler = Scheduler(max_concurrency)
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads = {"success": 0, "failure": 0}

    def start(self) -> None:
        """Start the probe loops; call from the event loop."""
        self.scheduler.apply(self.config)
        log.info("probing %d targets", len(self.config.targets))

    async def stop(self) -> None:
        await self.scheduler.stop()

    def reload(self) -> ConfigError | None:
        """Read the config file again and apply it; on error keep the old one and say why."""
        if self.config_path is None:
            return ConfigError([], "<no config file>")
        try:
            config = load_config(self.config_path)
        except ConfigError as err:
            self.last_reload_successful = False
            self.reloads["failure"] += 1
            log.error("config reload failed, keeping the running config:\n%s", err)
            return err
        self.config = config
        self.scheduler.apply(config)
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads["success"] += 1
        log.info("config reloaded: %d targets", len(config.targets))
        return None

    @property
    def ready(self) -> bool:
        return self.scheduler.running
