"""The hazard taxonomy: MLCommons' categories as Llama Guard 3 numbers them, plus ``none``."""

from __future__ import annotations

__all__ = ["HAZARDS", "NONE", "hazard_name"]

NONE = "none"

HAZARDS: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


def hazard_name(code: str) -> str:
    """``"S9"`` → ``"Indiscriminate Weapons"``; ``none`` and unknown codes pass through."""
    return HAZARDS.get(code, code)
