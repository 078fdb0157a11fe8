from __future__ import annotations

import pytest

from gateway.events.scrub import PIIScrubber


@pytest.mark.parametrize(("text", "expected"), [
    ("call me at +44 20 7946 0958", "call me at [PHONE]"),
    ("US office 555-123-4567.", "US office [PHONE]."),
    ("jane.doe@example.com", "[EMAIL]"),
    ("write to a@b.co now", "write to [EMAIL] now"),
    ("card 4111 1111 1111 1111 thanks", "card [CARD] thanks"),
    ("card 4111-1111-1111-1111", "card [CARD]"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN] please"),
    ("DE89370400440532013000", "[IBAN]"),
    ("from 192.168.1.20 and 2001:db8::1", "from [IP] and [IP]"),
    ("key sk-proj-abcdefghijklmnop1234", "key [SECRET]"),
    ("AKIAIOSFODNN7EXAMPLE", "[SECRET]"),
    ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "Authorization: Bearer [SECRET]"),
])
def test_scrubs_each_kind(text: str, expected: str) -> None:
    scrubbed, count = PIIScrubber().scrub(text)
    assert scrubbed == expected
    assert count == expected.count("[")


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112",        # fails Luhn
    "GB82WEST12345698765433",          # fails mod-97
    "version 1.2.3 on 999.1.1.1",      # not an IP address
    "on 2024-01-15 order 12345",       # a date and a short number
    "time 10:30:00",
    "How do I kill a Python process?",
])
def test_leaves_look_alikes_alone(text: str) -> None:
    assert PIIScrubber().scrub(text) == (text, 0)


def test_several_spans_and_kind_selection() -> None:
    text = "mail x@y.org or call +1 415 555 0100 from 10.0.0.1"
    assert PIIScrubber().scrub(text) == ("mail [EMAIL] or call [PHONE] from [IP]", 3)
    only_email = PIIScrubber(kinds=["email"])
    assert only_email.scrub(text)[0] == "mail [EMAIL] or call +1 415 555 0100 from 10.0.0.1"
    assert [m.kind for m in PIIScrubber().find(text)] == ["email", "phone", "ip"]


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="'ssn'"):
        PIIScrubber(kinds=["ssn"])
