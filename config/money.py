"""Money, one rule: amounts are rounded half up (away from zero) to the currency's minor unit.

Half up is what a rate card's reader expects (0.125 is 0.13) and what carriers invoice;
banker's rounding would make the same price differ by a cent between a plan and an order.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies without a minor unit; every other currency Waybill meets has cents.
# (Three-decimal currencies such as KWD are left out: prices are stored with two decimals.)
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01, or 1 for a currency without cents."""
    return Decimal(1) if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def money_round(value: Decimal | int | str, currency: str) -> Decimal:
    """``value`` rounded half up (away from zero) to ``currency``'s minor unit."""
    return Decimal(value).quantize(minor_unit(currency), ROUND_HALF_UP)


def money_text(value: Decimal | int | str, currency: str) -> str:
    """``value`` as the API and events write money: rounded, fixed point, e.g. ``"79.38"``."""
    rounded = money_round(value, currency)
    return format(abs(rounded) if rounded.is_zero() else rounded, "f")  # never "-0.00"
