"""API shapes of the DEV login."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.auth import StaffRole


class LoginBody(BaseModel):
    """Who signs in: a staff role, a user id, and the department (dispatcher) or grid (grid worker)."""

    model_config = ConfigDict(extra="forbid")

    role: StaffRole
    sub: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$", description="user id")
    department: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,50}$", description="department code")
    grid: str | None = Field(default=None, pattern=r"^[0-9]{6,20}$", description="grid code")


class LoginRead(BaseModel):
    """A bearer token for the services, and whom it stands for."""

    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str
    sub: str
    department: str | None
    grid: str | None


class LoginOptions(BaseModel):
    """How to sign in here: whether the DEV login is on (if not, the city's SSO is the way in)."""

    dev_login: bool
