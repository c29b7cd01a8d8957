"""A bare FastAPI echo endpoint: the yardstick intake's throughput is compared with (bench/intake_load.py)."""

from fastapi import FastAPI, status
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    """The same fields as a patrol report, validated the same plain way."""

    category_code: str
    description: str
    lon: float
    lat: float


@app.post("/echo", status_code=status.HTTP_202_ACCEPTED)
def echo(body: Body) -> Body:
    """Return the body."""
    return body
