"""How many decimals a measured value carries: the same on the image, in the panel, in the SR and in the PDF.

A length drawn on a CT is good to a tenth of a millimetre at best; "95.9804738508595 mm"
claims a precision no one measured.  Each UCUM unit has a number of decimals
(lengths and areas 0.1, Hounsfield units 1, angles 0.1°); values are rounded
half away from zero (as a reader rounds), and the SR's NUM carries exactly that
decimal string.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Decimals per UCUM unit code; units not listed keep :data:`DEFAULT_DECIMALS`.
DECIMALS = {
    "mm": 1, "cm": 2, "mm2": 1, "cm2": 2, "mm3": 0, "cm3": 2, "ml": 1, "mL": 1,
    "[hnsf'U]": 0, "HU": 0, "deg": 1, "%": 1, "1": 1, "s": 1, "ms": 0,
}
DEFAULT_DECIMALS = 2
#: How units are written for a reader (the UCUM code otherwise).
SHOWN_UNITS = {"[hnsf'U]": "HU", "mm2": "mm²", "cm2": "cm²", "mm3": "mm³", "cm3": "cm³", "deg": "°", "1": ""}


def decimals_for(unit: str) -> int:
    """The decimals a value in UCUM ``unit`` is given with."""
    return DECIMALS.get(unit, DEFAULT_DECIMALS)


def decimal_string(value: float, unit: str) -> str:
    """``value`` rounded for ``unit`` as a decimal string (``96.0``, ``-650``), at most 16 characters (DS)."""
    places = decimals_for(unit)
    try:
        d = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # too large to quantize: fall back to a short general form
        return f"{float(value):.6g}"
    text = f"{d:f}"
    if text in ("-0", "-0.0", "-0.00") or (text.startswith("-") and float(d) == 0):
        text = text[1:]
    return text if len(text) <= 16 else f"{float(value):.10g}"[:16]


def rounded(value: float, unit: str) -> float:
    """``value`` rounded for ``unit`` (the float of :func:`decimal_string`)."""
    return float(decimal_string(value, unit))


def shown_unit(unit: str) -> str:
    return SHOWN_UNITS.get(unit, unit)


def shown(value: float, unit: str) -> str:
    """``96.0 mm``, ``-650 HU``, ``12.5°``: the rounded value with its unit as a reader writes it."""
    u = shown_unit(unit)
    text = decimal_string(value, unit)
    if u == "°":
        return text + u
    return f"{text} {u}".rstrip()
