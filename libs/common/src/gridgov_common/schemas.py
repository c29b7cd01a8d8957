"""Strict field types shared by every request schema and bus payload.

Pydantic's lax mode turns ``true`` into 1.0 and ``"1.5"`` into 1.5: a client bug (or a probe) then becomes a
report at longitude 1. A request body is JSON, where a number is a number, so number fields are strict: int or
float only (never bool, never a string), and finite. Query parameters stay lax: they are strings by nature.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AllowInfNan, Field, Strict

from gridgov_common.limits import check_text

# A JSON number: int or float, finite; refuses bool and numeric strings.
Number = Annotated[float, Strict(), AllowInfNan(False)]
# A JSON integer: refuses bool, strings and floats (even 3.0).
Integer = Annotated[int, Strict()]
# The largest value a PostgreSQL INTEGER column holds: a bound for any integer that reaches a query (beyond it
# PostgreSQL answers "integer out of range" and SQLite an OverflowError, both 500s).
INT32_MAX = 2**31 - 1
# WGS84 coordinates (finite, in range).
Longitude = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-180, le=180)]
Latitude = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-90, le=90)]
# Text under the one text policy (no NUL, no C0 control but tab/LF/CR, no DEL, no C1, no lone surrogate).
SafeText = Annotated[str, AfterValidator(check_text)]
