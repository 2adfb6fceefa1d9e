"""Request and response bodies for sign-in."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=512)


class Me(BaseModel):
    user_id: int
    username: str
    role: str
    contingent: str | None
    device_id: str | None = None


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in: int
    user: Me
