from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/users", tags=["users"])


@router.get("")
async def users() -> dict[str, list[str]]:
    return {"users": []}


@router.get("/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}
