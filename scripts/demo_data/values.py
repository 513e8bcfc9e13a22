"""Money, dates and the ways the department's exports spell them: Decimal helpers
(rounding, splitting a total, 万元), working days, full-width digits, amount and
classification formats."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ONE = Decimal("1")
HUNDRED = Decimal("100")
WAN = Decimal("10000")
ZERO = Decimal("0")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def D(value) -> Decimal:
    """Decimal from a str/int/Decimal (never from a float)."""
    if isinstance(value, float):  # pragma: no cover - guard
        raise TypeError("money must not be a float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_to(value: Decimal, unit: Decimal) -> Decimal:
    return ((value / unit).quantize(ONE, ROUND_HALF_UP) * unit).quantize(CENT)


def ceil_to(value: Decimal, unit: Decimal) -> Decimal:
    return ((value / unit).quantize(ONE, ROUND_CEILING) * unit).quantize(CENT)


def split(total: Decimal, n: int, rng: random.Random, jitter: float = 0.4, round_prob: float = 0.0) -> list[Decimal]:
    """Split ``total`` into ``n`` positive parts exact to the fen."""
    total = D(total)
    if n <= 1:
        return [total]
    weights = [1 + rng.uniform(-jitter, jitter) for _ in range(n)]
    s = sum(weights)
    parts = []
    for w in weights[:-1]:
        v = total * Decimal(f"{w / s:.6f}")
        unit = HUNDRED if rng.random() < round_prob else CENT
        parts.append(round_to(v, unit))
    last = total - sum(parts)
    parts.append(last)
    assert all(p > 0 for p in parts), (total, parts)
    assert sum(parts) == total
    return parts


def alloc(total: Decimal, weights: dict) -> dict[str, Decimal]:
    """Allocate a total over econ codes: by weight (to 100 yuan, remainder last) or explicit amounts."""
    total = D(total)
    items = list(weights.items())
    if all(isinstance(w, str) for _, w in items):
        out = {k: D(v) for k, v in items}
        assert sum(out.values()) == total, (total, sum(out.values()))
        return out
    out: dict[str, Decimal] = {}
    for k, w in items[:-1]:
        out[k] = round_to(total * Decimal(str(w)), HUNDRED)
    out[items[-1][0]] = total - sum(out.values())
    assert all(v > 0 for v in out.values())
    return out


def bday(year: int, month: int, day: int) -> date:
    """A working day in the month, at or after ``day`` (or before, at the month's end)."""
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    d = date(year, month, min(max(day, 1), last))
    fwd = d
    while not _working(fwd):
        fwd += timedelta(days=1)
    if fwd.month == month:
        return fwd
    while not _working(d):
        d -= timedelta(days=1)
    return d


def _working(d: date) -> bool:
    """Monday to Friday, and not New Year's Day, the May Day or the National Day holidays."""
    holiday = (d.month, d.day) == (1, 1) or (d.month == 5 and d.day <= 5) or (d.month == 10 and d.day <= 7)
    return d.weekday() < 5 and not holiday


def month_end(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def fullwidth(s: str) -> str:
    return s.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))


def xlsx_float(value: Decimal) -> float:
    """The float for an XLSX number cell; only values that read back exactly."""
    f = float(str(value))
    assert Decimal(repr(f)) == value, (value, f)
    return f


def wan(value: Decimal) -> Decimal:
    """Yuan -> 万元, exact (up to 6 decimals), trailing zeros trimmed to 2 decimals."""
    w = value / WAN
    assert w * WAN == value
    w = w.normalize()
    if -w.as_tuple().exponent < 2:
        w = w.quantize(CENT)
    return w


def fmt_amount(value: Decimal, style: str = "comma", neg: str = "minus") -> str:
    a = abs(value)
    if style == "comma":
        body = f"{a:,.2f}" if a == a.quantize(CENT) else f"{a:,f}"
    else:
        body = f"{a:.2f}" if a == a.quantize(CENT) else f"{a:f}"
    if value >= 0:
        return body
    if neg == "paren_full":
        return f"（{body}）"
    if neg == "paren":
        return f"({body})"
    return "-" + body


def fmt_cls(code: str, names: dict, style: str) -> str:
    name = names[code]
    if style == "space":
        return f"{code} {name}"
    if style == "bracket":
        return f"[{code}]{name}"
    if style == "dash":
        return f"{code}-{name}"
    return code
