"""Looking a name up in one of the zoo's tables (models, weights, data sets): a miss is an error
that says what was asked, the close matches, and what exists."""

from __future__ import annotations

import difflib


def lookup(table: dict, name, error: type[Exception], unknown: str, known: str):
    """table[name], else `error` with "<unknown>. Did you mean ...? <known>: a, b, c."."""
    try:
        return table[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(table), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise error(f"{unknown}.{hint} {known}: {', '.join(sorted(table)) or 'none'}.") from None
