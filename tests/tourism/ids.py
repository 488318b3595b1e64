"""Valid resident ID numbers (GB 11643) for tests: region 430400 (衡阳), a birth date, a sequence."""

from __future__ import annotations

from haoban.orders.citizen import id_number_check_char


def id_number(n: int, *, born: str = "19900101") -> str:
    first17 = f"430400{born}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def many(count: int) -> list[str]:
    """``count`` distinct valid ID numbers (birth dates vary so there is no collision)."""
    out = []
    for i in range(count):
        day = 1 + i // 1000 % 28
        month = 1 + i // 28000 % 12
        out.append(id_number(i, born=f"1980{month:02d}{day:02d}"))
    return out
