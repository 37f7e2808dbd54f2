from decimal import Decimal

import pytest

from claims.quantities import quantity_phrase


@pytest.mark.parametrize(
    ("quantity", "unit", "qualifier", "phrase"),
    [
        # Stored as DecimalField(decimal_places=4): the trailing zeros and normalize()'s
        # exponent (5E+7) must not reach the reader.
        ("50000000.0000", "USD", "", "50,000,000 US dollars"),
        ("7.0000", "t", "nearly", "nearly 7 tonnes"),
        ("1234567.2500", "USD", "more_than", "more than 1,234,567.25 US dollars"),
        ("0.0010", "t", "", "0.001 tonnes"),
    ],
)
def test_a_quantity_reads_as_readers_write_numbers(quantity, unit, qualifier, phrase):
    assert quantity_phrase(Decimal(quantity), unit, qualifier) == phrase
