"""Mean, spread and the noise mark of an ablation table.

Over the finished runs (seeds) of one config a value has the mean and the
sample standard deviation (``n - 1`` in the denominator; undefined for one
run). A difference between a config and its parent is *within the noise*
when the two intervals ``mean +- NOISE_SIGMAS * std`` overlap, i.e. when

    |mean_child - mean_parent| <= NOISE_SIGMAS * (std_child + std_parent)

With fewer than two runs on either side there is no spread to compare with
and the mark is unknown (``None``).
"""
import math
from typing import Dict, Optional, Sequence

NOISE_SIGMAS = 2.0


def summarize(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean, sample standard deviation and count of ``values``.

    Args:
        values (Sequence[float]): One value per finished run; None entries
            (a run that did not log the value) are left out.

    Returns:
        dict: ``mean`` (None without values), ``std`` (None with fewer than
        two values) and ``n``.
    """
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if n == 0:
        return dict(mean=None, std=None, n=0)
    mean = math.fsum(xs) / n
    std = None
    if n >= 2:
        std = math.sqrt(math.fsum((x - mean)**2 for x in xs) / (n - 1))
    return dict(mean=mean, std=std, n=n)


def compare(child: Dict,
            parent: Dict,
            sigmas: float = NOISE_SIGMAS) -> Dict[str, Optional[float]]:
    """Difference of two :func:`summarize` results and its noise mark.

    Args:
        child (dict): Summary of the config.
        parent (dict): Summary of its parent.
        sigmas (float): Half-width of the intervals in standard deviations.

    Returns:
        dict: ``delta`` (child mean minus parent mean, None if either is
        missing), ``noise`` (``sigmas * (std_child + std_parent)``, None
        without spreads) and ``within_noise`` (True when the intervals
        overlap, False when they do not, None when unknown).
    """
    if child['mean'] is None or parent['mean'] is None:
        return dict(delta=None, noise=None, within_noise=None)
    delta = child['mean'] - parent['mean']
    if child['std'] is None or parent['std'] is None:
        return dict(delta=delta, noise=None, within_noise=None)
    noise = sigmas * (child['std'] + parent['std'])
    return dict(delta=delta, noise=noise, within_noise=abs(delta) <= noise)
