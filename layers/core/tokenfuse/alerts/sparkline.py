"""A spike as one line of unicode blocks (fits a Slack field and a plain-text email)."""

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None], width: int = 24) -> str:
    """The last ``width`` values scaled from the lowest (▁) to the highest (█); gaps as spaces."""
    points = list(values)[-width:]
    known = [v for v in points if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    line = []
    for value in points:
        if value is None:
            line.append(" ")
        elif span <= 0:
            line.append(BLOCKS[0] if high <= 0 else BLOCKS[3])
        else:
            line.append(BLOCKS[round((value - low) / span * (len(BLOCKS) - 1))])
    return "".join(line)
