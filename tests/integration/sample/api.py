"""Every router under /api/v1: one failed import here loses all of them."""

from __future__ import annotations

from fastapi import APIRouter

from .routers import admin, auth, user_management, users

api_router = APIRouter(prefix="/api/v1")
for module in (auth, admin, users, user_management):
    api_router.include_router(module.router)
