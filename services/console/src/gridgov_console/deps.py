"""The console's typed dependencies: what its lifespan and ``create_app`` put on the app (settings, the DEV
login switch, the HTTP client to the services, the signing secret). The console has no service runtime; its
callers are authenticated with the shared verifier (``gridgov_common.deps.authenticate``)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from gridgov_common.deps import jwt_secret_of
from gridgov_console.login.handlers import DevLoginSwitch
from gridgov_console.settings import ConsoleSettings


async def console_settings(request: Request) -> ConsoleSettings:
    """The console's settings."""
    return request.app.state.settings


async def upstream_client(request: Request) -> httpx.AsyncClient:
    """The HTTP client to the four services, opened by the lifespan (read per request: tests swap it)."""
    return request.app.state.http


async def dev_login(request: Request) -> DevLoginSwitch:
    """Whether the DEV login is on here, and why."""
    return request.app.state.dev_login


async def signing_secret(request: Request) -> str | None:
    """The shared secret the DEV login signs tokens with, once the lifespan loaded it."""
    return jwt_secret_of(request.app)


Settings = Annotated[ConsoleSettings, Depends(console_settings)]
Upstream = Annotated[httpx.AsyncClient, Depends(upstream_client)]
DevLogin = Annotated[DevLoginSwitch, Depends(dev_login)]
SigningSecret = Annotated[str | None, Depends(signing_secret)]
