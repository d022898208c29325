from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login() -> JSONResponse:
    return JSONResponse({"detail": "Incorrect email or password"}, status_code=401)


@router.post("/refresh")
async def refresh() -> JSONResponse:
    return JSONResponse({"detail": "Not authenticated"}, status_code=401)
