"""HTTP routes of the risk map (placeholder until the risk statistics' views land)."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1/risk", tags=["risk"])
