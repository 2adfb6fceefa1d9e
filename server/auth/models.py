"""Request and response bodies for sign-in."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=512)
    two_factor_code: str | None = Field(
        default=None, max_length=64,
        description="With two-factor sign-in on: the authenticator app's 6-digit code, or an unused recovery code")


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
    two_factor_enrolment_required: bool = Field(
        default=False, description="True: the mission requires two-factor sign-in and this user has not enrolled; "
                                   "the token may only enrol (/auth/two-factor/*), sign out and read /auth/me")


class TwoFactorStatus(BaseModel):
    enabled: bool
    required: bool
    enrolment_pending: bool
    recovery_codes_left: int


class TwoFactorSetup(BaseModel):
    secret: str = Field(description="Base32 TOTP secret, for typing into an authenticator app")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code (SVG data URI)")


class TwoFactorConfirm(BaseModel):
    code: str = Field(min_length=6, max_length=16, description="The current 6-digit code from the new entry")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Single-use codes for when the phone is lost; shown only now")
