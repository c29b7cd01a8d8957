"""API shapes of phone confirmation."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

PHONE_MAX = 20


class PhoneCodeCreate(BaseModel):
    """Ask for a code for a mobile number; ``client_id`` names the asking device (per-client rate limit)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=PHONE_MAX, examples=["13800138000"],
                       description="mainland mobile number; +86, spaces and dashes are dropped")
    client_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$",
                           examples=["device-0001"], description="the asking device's id (rate limit)")


class PhoneCodeSent(BaseModel):
    """A code is on its way: confirm it under ``id`` before ``expires_at``."""

    id: str
    phone_masked: str = Field(description="the number as shown back, 138****8000")
    expires_at: datetime
    resend_after_s: int = Field(description="seconds until another code may be asked for this phone")
    max_attempts: int = Field(description="wrong codes tolerated before the request is locked")


class PhoneCodeConfirm(BaseModel):
    """The code the phone received, and the phone (it must be the one the code went to)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=PHONE_MAX, examples=["13800138000"])
    code: str = Field(min_length=1, max_length=12, examples=["000000"])


class PhoneConfirmed(BaseModel):
    """The phone is confirmed: whoever holds this answer proved they received the code."""

    id: str
    phone: str = Field(description="the normalised 11-digit number")
    confirmed_at: datetime
