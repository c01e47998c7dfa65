"""Benchmark results as Markdown tables (prettytable, as mmseg's metrics
print theirs), ready to paste into the docs."""
from typing import List, Sequence

from prettytable import PrettyTable, TableStyle


def format_table(header: Sequence[str], rows: List[Sequence]) -> str:
    """A Markdown table, columns padded to their widest cell; ``None`` cells
    print as '-'. Floats are printed by the caller (:func:`fmt`)."""
    table = PrettyTable([str(h) for h in header])
    table.set_style(TableStyle.MARKDOWN)
    table.align = 'l'
    table.add_rows([['-' if c is None else str(c) for c in row]
                    for row in rows])
    return table.get_string()


def fmt(value, spec: str):
    """``format(value, spec)``, or None for a missing value."""
    return None if value is None else format(value, spec)
