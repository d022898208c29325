"""In-app defence for Starlette and FastAPI apps (the seeds' layers 1 and 2).

    from exporter.integration import AppHealth, Postgres, Redis

    health = AppHealth.from_config("business-exporter.yaml", checks=[
        Postgres("database", os.environ["DATABASE_URL"]),
        Redis("sessions", os.environ["REDIS_URL"], policy="degrade"),
    ])
    app = FastAPI()
    ...                    # routers, as the app includes them
    health.install(app)    # startup validation, /health/{live,ready,detailed}, /metrics

Importing it loads Starlette and prometheus_client only: no FastAPI, no probe runtime; the
PostgreSQL and Redis drivers load when a check of theirs first runs.
"""

from exporter.integration.checks import (
    HTTP,
    Check,
    CheckResult,
    Dependency,
    Policy,
    Postgres,
    Redis,
)
from exporter.integration.health import AppHealth, Readiness, StartupRefused

__all__ = [
    "HTTP",
    "AppHealth",
    "Check",
    "CheckResult",
    "Dependency",
    "Policy",
    "Postgres",
    "Readiness",
    "Redis",
    "StartupRefused",
]
