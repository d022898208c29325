"""Debian's headless Chromium, driven through its chromedriver by selenium."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = "{} is missing: `make system-deps` installs the Debian packages chromium, chromium-driver"
# Flags that work as root in a container, and keep the browser from reaching the internet.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
LAPTOP, PHONE = 1280, 390
# Screenshots land in the temporary folder; with UPDATE_SCREENSHOTS=1, in docs/ for the README.
DOCS = Path(__file__).resolve().parents[2] / "docs"


class Browser:
    """One Chromium for a module's tests: load a page, read it, size the window, shoot it."""

    def __init__(self, driver: webdriver.Chrome, shots: Path) -> None:
        self.driver = driver
        self.shots = shots

    def open(self, url: str, width: int = LAPTOP, height: int = 900) -> None:
        self.resize(width, height)
        self.driver.get(url)

    def resize(self, width: int, height: int = 900) -> None:
        """Make the viewport, not the window, this size (a headless window has a frame too)."""
        self.driver.set_window_size(width, height)
        inner = self.js("return [window.innerWidth, window.innerHeight]")
        if inner != [width, height]:
            self.driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def text(self) -> str:
        """What a person reads: the rendered text of the page."""
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def one(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def overflow(self) -> list[str]:
        """Whatever sticks out of the viewport sideways: the page, or any element."""
        return list(
            self.js(
                """
                const width = document.documentElement.clientWidth, out = [];
                if (document.documentElement.scrollWidth > width)
                  out.push(`page: ${document.documentElement.scrollWidth} > ${width}`);
                for (const e of document.body.querySelectorAll('*')) {
                  const box = e.getBoundingClientRect();
                  if (box.width && (box.right > width + 0.5 || box.left < -0.5))
                    out.push(`${e.tagName}.${e.className}: ${box.left}..${box.right} of ${width}`);
                  if (e.tagName === 'TD' && e.scrollWidth > e.clientWidth + 1)
                    out.push(`TD ${e.dataset.label}: content ${e.scrollWidth} > ${e.clientWidth}`);
                }
                return out;
                """
            )
        )

    def screenshot(self, name: str) -> Path:
        """The whole page's height, at the current width."""
        height = self.js("return Math.ceil(document.body.getBoundingClientRect().bottom) + 16")
        width = self.js("return window.innerWidth")
        self.resize(width, max(400, min(int(height), 4000)))
        path = self.shots / name
        self.driver.save_screenshot(str(path))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(path, DOCS / name)
        return path


@contextlib.contextmanager
def chromium(shots: Path) -> Iterator[Browser]:
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), MISSING.format(path)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield Browser(driver, shots)
        finally:
            driver.quit()
