"""French wording every stage shares: a count with its noun, the months, as French writes them."""

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def plural(count: int, singular: str, several: str | None = None) -> str:
    """« 0 passage », « 1 passage », « 2 passages », « 1 communiqué indexé » (a thin space between thousands)."""
    number = f"{count:,}".replace(",", "\u202f")
    return f"{number} {singular if abs(count) < 2 else (several or singular + 's')}"
