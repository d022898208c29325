"""The router whose import failed in the seeds' incident (tests/integration/apps.py breaks it)."""

from __future__ import annotations

from fastapi import APIRouter

from ..roles import Role

router = APIRouter(prefix="/user-management", tags=["user_management"])


@router.get("")
async def roles() -> dict[str, list[str]]:
    return {"roles": [role.value for role in Role]}
