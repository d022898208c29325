"""The same app with the in-app integration: four lines added (the README's example)."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from exporter.integration import AppHealth

logger = logging.getLogger(__name__)

# Created first: it records the errors the app logs while it loads. Its own registry, as
# the tests build several of these apps in one process.
health = AppHealth.from_config(os.environ["BUSINESS_EXPORTER_CONFIG"], registry=CollectorRegistry())
app = FastAPI(title="MarketEdge API")


@app.get("/health")
async def basic_health() -> dict[str, str]:
    return {"status": "healthy"}


try:
    from .api import api_router

    app.include_router(api_router)
except Exception as e:
    logger.error(f"Failed to import API router: {e}")

health.install(app)
