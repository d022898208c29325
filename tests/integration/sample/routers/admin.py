from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/feature-flags")
async def feature_flags() -> dict[str, list[str]]:
    return {"flags": []}


@router.get("/dashboard/stats")
async def dashboard_stats() -> dict[str, int]:
    return {"users": 0}
