"""Made-up personal names for the demo's people (grid workers, department dispatchers): the demo city's trails and
rosters read 网格员 蔡涛 and 部门调度员 王敏, as a city's would, never a real person's name."""

from __future__ import annotations

import zlib

_SURNAMES = "陈李黄张梁刘林叶何罗王钟郑莫袁蔡邓谢卢"
_GIVEN = ("伟", "芳", "敏", "静", "强", "磊", "洁", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "志强",
          "建华", "丽娟", "国平", "海燕", "俊杰", "嘉欣", "子豪", "晓玲")


def person_name(serial: int) -> str:
    """The demo name of person number ``serial`` (the same serial, the same name)."""
    return _SURNAMES[serial % len(_SURNAMES)] + _GIVEN[(serial * 7) % len(_GIVEN)]


def person_name_of(key: str) -> str:
    """The demo name of the person a stable key stands for (an account id, a department's dispatcher)."""
    return person_name(zlib.crc32(key.encode()))
