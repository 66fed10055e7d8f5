"""schemathesis hooks for paycon's document (loaded by ``schemathesis.toml``).

``format: iban`` marks an IBAN whose mod-97 check digits must hold; JSON Schema
cannot say that, so valid ones are generated here: a country, the check digits
computed for a random BBAN.
"""

from __future__ import annotations

import string

import schemathesis
from hypothesis import strategies as st


def iban(country: str, bban: str) -> str:
    """The IBAN with correct check digits for ``country`` and ``bban`` (ISO 13616)."""
    rearranged = bban + country + "00"
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


_BBAN = st.text(string.ascii_uppercase + string.digits, min_size=11, max_size=30)
_COUNTRY = st.text(string.ascii_uppercase, min_size=2, max_size=2)

schemathesis.openapi.format("iban", st.builds(iban, _COUNTRY, _BBAN))
