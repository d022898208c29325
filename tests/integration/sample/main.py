"""The app as the seeds' incident had it: a failed import is logged, and /health stays 200."""

from __future__ import annotations

import logging

from fastapi import FastAPI

logger = logging.getLogger(__name__)

app = FastAPI(title="MarketEdge API")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


try:
    from .api import api_router

    app.include_router(api_router)
except Exception as e:
    logger.error(f"Failed to import API router: {e}")
