"""Money and numbers as the self-evaluation prints them.

Money stays `Decimal` yuan until printed; it becomes 万元 (two decimals, half-up) only
through `to_wan` / `fmt_wan`, so every printed figure is the exact yuan sum rounded once.
A leaf: the figures, the scoring, the tables, the charts and the provisional note all
format with it, and it imports none of them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
WAN = Decimal(10000)
CENT = Decimal("0.01")


def to_wan(yuan: Decimal | int | None) -> Decimal:
    """Yuan -> 万元 with two decimals, rounded half-up once."""
    return (Decimal(yuan or 0) / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_wan(yuan: Decimal | int | None) -> str:
    """`2194.33`: always two decimals, no thousands separator (the seed's style)."""
    return f"{to_wan(yuan):.2f}"


def round2(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """Exact ratio of two Decimals; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or Decimal(denominator) == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def fmt_pct(rate: Decimal | None) -> str:
    """0.97534… -> `97.53%`; None -> `—`."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).quantize(CENT, rounding=ROUND_HALF_UP):.2f}%"


def dec(value: float | Decimal | None) -> Decimal | None:
    """A DOUBLE from the marts (score, weight) as a Decimal of its shortest repr."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def fmt_number(value: Decimal | None) -> str:
    """A score or weight: two decimals; `—` when empty."""
    return "—" if value is None else f"{round2(value):.2f}"
