"""The units a claim's quantity may be in, and how sure the claim is of its number.

A unit is a code from a controlled list: ISO 4217 for money, UCUM for everything
else (UCUM writes a count of things as an annotation in braces: "{person}"). Each
knows how readers read it and, where UN/CEFACT (the code list schema.org's
`unitCode` names) has one, its common code; other codes go in the markup with
the list's prefix ("ISO4217:USD", "UCUM:{vessel}"), as schema.org allows.

Claims recorded before the list existed hold free-text units ("people", "tons").
They are kept as recorded (a ledger entry may commit to them) and read through
LEGACY_UNITS; an editor who edits such a claim picks a unit from the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Unit:
    code: str  # ISO 4217 or UCUM
    singular: str
    plural: str
    # UN/CEFACT Recommendation 20 common code, when there is one.
    uncefact: str = ""
    currency: bool = False

    @property
    def unit_code(self) -> str:
        """schema.org `unitCode`: the UN/CEFACT code, else the code with its list's prefix."""
        if self.uncefact:
            return self.uncefact
        return f"{'ISO4217' if self.currency else 'UCUM'}:{self.code}"

    def words(self, quantity: Decimal) -> str:
        return self.singular if quantity == 1 else self.plural


UNITS: dict[str, Unit] = {
    unit.code: unit
    for unit in [
        # Money (ISO 4217): the currencies the desk's sources use most.
        Unit("USD", "US dollar", "US dollars", currency=True),
        Unit("EUR", "euro", "euros", currency=True),
        Unit("GBP", "pound sterling", "pounds sterling", currency=True),
        Unit("MXN", "Mexican peso", "Mexican pesos", currency=True),
        Unit("VES", "Venezuelan bolívar", "Venezuelan bolívars", currency=True),
        Unit("COP", "Colombian peso", "Colombian pesos", currency=True),
        # Counts (UCUM annotations).
        Unit("{person}", "person", "people", uncefact="IE"),
        Unit("{death}", "death", "deaths"),
        Unit("{vessel}", "vessel", "vessels"),
        Unit("{aircraft}", "aircraft", "aircraft"),
        Unit("{strike}", "strike", "strikes"),
        Unit("{troop}", "troop", "troops"),
        Unit("{cartel}", "cartel", "cartels"),
        Unit("{organization}", "organization", "organizations"),
        Unit("{item}", "item", "items", uncefact="C62"),
        # Measures (UCUM).
        Unit("t", "tonne", "tonnes", uncefact="TNE"),
        Unit("[ston_av]", "short ton", "short tons", uncefact="STN"),
        Unit("kg", "kilogram", "kilograms", uncefact="KGM"),
        Unit("[lb_av]", "pound", "pounds", uncefact="LBR"),
        Unit("km", "kilometre", "kilometres", uncefact="KMT"),
        Unit("[mi_i]", "mile", "miles", uncefact="SMI"),
        Unit("[nmi_i]", "nautical mile", "nautical miles", uncefact="NMI"),
        Unit("%", "percent", "percent", uncefact="P1"),
        Unit("a", "year", "years", uncefact="ANN"),
        Unit("d", "day", "days", uncefact="DAY"),
    ]
}

# Free-text units recorded before the list, as the list reads them.
LEGACY_UNITS: dict[str, str] = {
    "people": "{person}",
    "persons": "{person}",
    # The seeds' "tons" of cocaine: the DEA's figures are metric.
    "tons": "t",
    "tonnes": "t",
    "aircraft": "{aircraft}",
    "cartels": "{cartel}",
    "percent": "%",
    "usd": "USD",
}

UNIT_CHOICES = [
    (
        "Money (ISO 4217)",
        [(u.code, f"{u.plural} ({u.code})") for u in UNITS.values() if u.currency],
    ),
    (
        "Counts and measures (UCUM)",
        [(u.code, f"{u.plural} ({u.code})") for u in UNITS.values() if not u.currency],
    ),
]


def unit_of(code: str) -> Unit | None:
    """The listed unit of a stored code (legacy free text included), or None."""
    return UNITS.get(code) or UNITS.get(LEGACY_UNITS.get(code.strip().lower(), ""))


def canonical_unit(code: str) -> str:
    """The list's code for a stored unit: legacy words read as the list's codes, so that
    a ledger entry that committed to "tons" agrees with a claim that now says "t"."""
    unit = unit_of(code)
    return unit.code if unit else code


class QuantityQualifier(models.TextChoices):
    """How the claim holds its number. Blank: the number exactly."""

    EXACTLY = "", "exactly"
    ABOUT = "about", "about"
    NEARLY = "nearly", "nearly"
    AT_LEAST = "at_least", "at least"
    MORE_THAN = "more_than", "more than"


def quantity_phrase(quantity: Decimal, unit_code: str, qualifier: str = "") -> str:
    """The quantity as readers read it: "nearly 7 tonnes", "50,000,000 US dollars"."""
    # Grouped with commas whatever the settings' NUMBER_GROUPING (Django's default, 0,
    # groups nothing: "50000000"); ",f" also keeps normalize()'s 5E+7 out of sight.
    number = format(quantity.normalize(), ",f")
    words = QuantityQualifier(qualifier).label if qualifier else ""
    unit = unit_of(unit_code)
    amount = f"{number} {unit.words(quantity) if unit else unit_code}"
    return f"{words} {amount}" if words else amount


def quantitative_value(quantity: Decimal, unit_code: str, qualifier: str = "") -> dict[str, Any]:
    """schema.org QuantitativeValue of a claim's quantity: `value` always, `minValue`
    for "at least" / "more than", `maxValue` for "nearly", and the reader's phrase
    as `description` whenever the number is not exact."""
    value: int | float = int(quantity) if quantity == quantity.to_integral() else float(quantity)
    markup: dict[str, Any] = {"@type": "QuantitativeValue", "value": value}
    unit = unit_of(unit_code)
    if unit is not None:
        markup["unitCode"] = unit.unit_code
        markup["unitText"] = unit.code if unit.currency else unit.words(quantity)
    else:
        markup["unitText"] = unit_code
    if qualifier in (QuantityQualifier.AT_LEAST, QuantityQualifier.MORE_THAN):
        markup["minValue"] = value
    elif qualifier == QuantityQualifier.NEARLY:
        markup["maxValue"] = value
    if qualifier:
        markup["description"] = quantity_phrase(quantity, unit_code, qualifier)
    return markup
