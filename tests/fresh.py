"""Evaluate an expression in a new interpreter: a value that must not depend on the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]


def in_fresh_process(setup: str, expression: str, hash_seed: int) -> Any:
    """`expression` after `setup`, in a new Python with its own string hash seed, as JSON."""
    code = f"{setup}\nimport json, sys\njson.dump({expression}, sys.stdout)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)
