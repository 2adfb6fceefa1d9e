"""Bodies for contingents and users."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..access import Role


class ContingentIn(BaseModel):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$", description="Short code, e.g. BANBAT")
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="", max_length=100)


class ContingentOut(ContingentIn):
    id: int


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$")
    password: str = Field(min_length=8, max_length=512)
    role: Role
    contingent: str | None = Field(default=None, description="Contingent code; required for patrol and commander")
    display_name: str = Field(default="", max_length=200)
    language: str = Field(default="en", pattern=r"^(en|fr|ar)$")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    contingent: str | None
    language: str
    active: bool
