"""Plain-text tables of benchmark results."""
from typing import List, Sequence


def format_table(header: Sequence[str], rows: List[Sequence]) -> str:
    """Columns padded to their widest cell; ``None`` cells print as '-'.
    Floats are printed by the caller."""
    cells = [[str(h) for h in header]]
    cells += [['-' if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, row in enumerate(cells):
        lines.append('| ' + ' | '.join(
            c.ljust(w) for c, w in zip(row, widths)) + ' |')
        if k == 0:
            lines.append('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    return '\n'.join(lines)


def fmt(value, spec: str):
    """``format(value, spec)``, or None for a missing value."""
    return None if value is None else format(value, spec)
