"""API shapes of the DEV login."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gridgov_common.auth import NAME_MAX, StaffRole
from gridgov_common.schemas import SafeText


class LoginBody(BaseModel):
    """Who signs in: a staff role, a user id, and the department (dispatcher) or grid (grid worker)."""

    model_config = ConfigDict(extra="forbid")

    role: StaffRole
    sub: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$", description="user id")
    department: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,50}$", description="department code")
    grid: str | None = Field(default=None, pattern=r"^[0-9]{6,20}$", description="grid code")
    name: SafeText | None = Field(default=None, min_length=1, max_length=NAME_MAX,
                                  description="display name (姓名) the ticket trail shows beside the role")

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # What the services keep from a token's name (auth.display_name): refused here, not silently dropped there.
        if value is not None and not value.strip().isprintable():
            raise ValueError("must be printable text (no control or direction-override characters)")
        return value


class LoginRead(BaseModel):
    """A bearer token for the services, and whom it stands for."""

    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str
    sub: str
    department: str | None
    grid: str | None
    name: str | None = None


class LoginOptions(BaseModel):
    """How to sign in here: whether the DEV login is on (if not, the city's SSO is the way in), and the citizen's
    ways in (a phone confirmed by an SMS code, or anonymous)."""

    dev_login: bool
    citizen_phone: bool = False
    citizen_anonymous: bool = False


class CitizenPhoneLogin(BaseModel):
    """A citizen signs in with the code their phone received (the request id is POST /v1/phone-codes' answer)."""

    model_config = ConfigDict(extra="forbid")

    # A UUID as notification made it: nothing else reaches notification's URL (no '/', no '..').
    request_id: str = Field(pattern=r"^[0-9a-fA-F-]{1,36}$", examples=["00000000-0000-0000-0000-000000000000"])
    phone: str = Field(min_length=1, max_length=20, examples=["13800138000"])
    code: str = Field(min_length=1, max_length=12, examples=["000000"])


class CitizenAnonymousLogin(BaseModel):
    """A citizen reports without a phone: the token stands for this device id (random, kept by the page)."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="a random id the page keeps (at least 16 characters: it is the key to the "
                                       "device's own reports)")


class CitizenLoginRead(LoginRead):
    """A citizen's token; ``phone`` is the confirmed number, for the page to send with reports (never in the token)."""

    anonymous: bool
    phone: str | None
