"""The category codes reports may carry (national 2+3 style: major class + minor class).

A shared contract: intake refuses a code not listed here, and dispatch routes every code listed here.
The full, versioned event catalog with its departments and time limits is dispatch's own (issue #6);
this list is the set of codes both sides agree on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One event category: code, Chinese and English name."""

    code: str
    name_zh: str
    name_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("01001", "私搭乱建", "Illegal construction"),
    Category("01002", "暴露垃圾", "Exposed garbage"),
    Category("01003", "积存垃圾渣土", "Accumulated garbage and muck"),
    Category("01004", "道路不洁", "Unclean road"),
    Category("02001", "非法小广告", "Illegal small advertisements"),
    Category("03001", "施工扰民", "Construction disturbing residents"),
    Category("04001", "路面塌陷", "Road surface collapse"),
    Category("04002", "自来水管破裂", "Burst water main"),
    Category("04003", "燃气管道破裂", "Burst gas pipe"),
    Category("04004", "道路积水", "Road flooding"),
    Category("05001", "无照经营游商", "Unlicensed street vendor"),
    Category("05002", "店外经营", "Business outside the shop"),
    Category("05003", "机动车乱停放", "Illegal parking"),
    Category("05004", "露天烧烤", "Open-air barbecue"),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}


def is_known(code: str) -> bool:
    """Whether a category code is in the shared list."""
    return code in BY_CODE
