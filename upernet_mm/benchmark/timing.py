"""Interleaved repetitions after warm-up, reported as medians."""
import statistics
import time
from typing import Callable, Dict, List


def interleaved_times(fns: Dict[str, Callable[[], object]],
                      warmup: int = 1,
                      reps: int = 5) -> Dict[str, List[float]]:
    """Time each callable ``reps`` times, interleaved, after ``warmup``
    untimed rounds.

    Round ``r`` runs the candidates in an order rotated by ``r``, so no
    candidate always runs first (or right after the same neighbour) and a
    slow drift of the machine spreads over all of them.

    Args:
        fns (dict[str, callable]): Candidates by name.
        warmup (int): Untimed rounds first. Default: 1.
        reps (int): Timed rounds. Default: 5.

    Returns:
        dict[str, list[float]]: Seconds of each timed call, by name.
    """
    if reps < 1:
        raise ValueError(f'interleaved_times: reps must be >= 1, got {reps}')
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for r in range(reps):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: List[float]) -> float:
    """The median of a non-empty list."""
    return statistics.median(values)
