"""PII scrubbing before an event leaves the gateway.

Each kind is a candidate pattern plus, where one exists, a check that rules out look-alikes
(Luhn for card numbers, ISO 13616 mod-97 for IBANs, :mod:`ipaddress` for IPs), so order
numbers and dates are not mangled. Overlaps go to the more specific kind, in the order of
:data:`KINDS`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["KINDS", "PIIMatch", "PIIScrubber"]

KINDS = ("secret", "email", "iban", "card", "ip", "phone")


@dataclass(frozen=True, slots=True)
class PIIMatch:
    kind: str
    start: int
    end: int


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid_card(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _valid_iban(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _valid_phone(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    # A leading + (international form) makes 7 digits enough; otherwise ask for a full
    # national number so dates and short codes stay.
    return 7 <= digits <= 15 if text.startswith("+") else 10 <= digits <= 15


_SECRET = re.compile(
    r"\b(?:sk|pk|rk)-(?:[A-Za-z]+-)?[A-Za-z0-9_-]{16,}"      # OpenAI/Stripe style
    r"|\bAKIA[0-9A-Z]{16}\b"                                 # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b"                       # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"                       # Slack tokens
    r"|\bAIza[0-9A-Za-z_-]{35}\b"                            # Google API keys
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|(?<=[:=] )[A-Za-z0-9_\-/+]{24,}(?=\s|$)"             # long opaque value after "key: "
    r"|(?i:(?<=bearer )[A-Za-z0-9._~+/-]{16,}=*)")
_PATTERNS: dict[str, tuple[re.Pattern[str], Callable[[str], bool] | None]] = {
    "secret": (_SECRET, None),
    "email": (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
              None),
    "iban": (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"), _valid_iban),
    "card": (re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _valid_card),
    "ip": (re.compile(r"(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}"
                      r"|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w.:])"), _valid_ip),
    "phone": (re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
                         r"\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])"), _valid_phone),
}


class PIIScrubber:
    """Finds PII spans and replaces each with a placeholder such as ``[EMAIL]``."""

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        chosen = tuple(KINDS if kinds is None else kinds)
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown PII kinds {unknown!r}; known: {list(KINDS)}")
        self.kinds = tuple(k for k in KINDS if k in chosen)

    def find(self, text: str) -> list[PIIMatch]:
        """Non-overlapping matches, in text order."""
        taken: list[PIIMatch] = []
        for kind in self.kinds:
            pattern, valid = _PATTERNS[kind]
            for m in pattern.finditer(text):
                if valid is not None and not valid(m.group()):
                    continue
                if any(m.start() < t.end and t.start < m.end() for t in taken):
                    continue
                taken.append(PIIMatch(kind, m.start(), m.end()))
        return sorted(taken, key=lambda t: t.start)

    def scrub(self, text: str) -> tuple[str, int]:
        """Return the text with every match replaced, and how many were replaced."""
        if not text:
            return text, 0
        matches = self.find(text)
        if not matches:
            return text, 0
        parts: list[str] = []
        at = 0
        for m in matches:
            parts += [text[at:m.start], f"[{m.kind.upper()}]"]
            at = m.end
        parts.append(text[at:])
        return "".join(parts), len(matches)
