"""Names from outside (customers', agents') isolated from the text around them.

A name may carry Unicode direction controls (U+202E, right-to-left override): shown inline as
it is, it reorders what follows it ("@eman → shop" reads backwards). Templates wrap names in
`<bdi>`; where no element can go (a page title, an attribute, an `<option>`, a model's
`__str__` shown by Django admin) the same isolation is spelt with FSI ... PDI, which close any
override the name left open.
"""

from __future__ import annotations

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolate(text: object) -> str:
    value = str(text)
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}" if value else value
