"""How the report's pages print a figure, in one place, so that two pages never disagree."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def points(fraction) -> str:
    """A spread (a fraction: 0.00035, or the CSV's "0.000350") in percentage points, 2 decimals,
    rounded half up from the six digits the CSVs keep. Every page then prints the same figure
    whether it reads the float or the file: four seeds' std can fall on the half exactly (0.035
    points), and the float rounded one way where its six digits, read back, rounded the other."""
    return str((Decimal(f"{float(fraction):.6f}") * 100).quantize(Decimal("0.01"), ROUND_HALF_UP))
