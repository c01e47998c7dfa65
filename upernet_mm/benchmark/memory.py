"""Peak resident memory of one call, measured in a worker process.

PyTorch's CPU allocator takes memory from glibc's malloc, which tracemalloc
does not see. What is measured here is the growth of the process' resident
set during one call: the kernel's high-water mark (``VmHWM``, reset before
the call through ``/proc/self/clear_refs``) minus the resident set right
before the call. It counts everything the call touches that was not resident
before: activations, autograd buffers, gradients (set to None before each
call), oneDNN scratch space. The worker runs with glibc's mmap threshold
fixed at 64 KiB (``MALLOC_MMAP_THRESHOLD_``), so freed tensors go back to
the kernel and memory cached from an earlier call does not hide the next
call's peak; that slows allocation, so timings are never taken there.
"""
import gc
import json
import os
import subprocess
import sys
from typing import Callable, Dict, List

WORKER_ENV = dict(
    MALLOC_MMAP_THRESHOLD_='65536',
    MALLOC_TRIM_THRESHOLD_='0',
    MALLOC_TOP_PAD_='0')


def status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'/proc/self/status has no {field} line')


def can_measure() -> str:
    """'' if peak-memory measurement works here, else the reason."""
    if not os.path.exists('/proc/self/clear_refs'):
        return 'no /proc/self/clear_refs (not Linux)'
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError as e:
        return f'cannot reset the peak RSS: {e}'
    return ''


def reset_peak() -> None:
    """Reset this process' resident high-water mark (``VmHWM``) to its
    current resident set."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def peak_rss_growth(fn: Callable[[], object]) -> int:
    """Bytes of resident memory growth at the peak of one call of ``fn``."""
    gc.collect()
    base = status_kib('VmRSS')
    reset_peak()
    fn()
    return (status_kib('VmHWM') - base) * 1024


def measure_all(fns: Dict[str, Callable[[], object]],
                warmup: int = 1,
                rounds: int = 3) -> Dict[str, int]:
    """Median peak growth of each candidate over ``rounds`` rounds in
    rotated order, after ``warmup`` unmeasured calls each (one-off
    allocations of a first call, or of whichever candidate runs first in a
    round, do not decide the result)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    names = list(fns)
    growth = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            growth[name].append(peak_rss_growth(fns[name]))
    return {name: sorted(v)[len(v) // 2] for name, v in growth.items()}


def run_worker(argv: List[str], timeout: float = 3600) -> Dict[str, int]:
    """Run ``python argv...`` with :data:`WORKER_ENV`; it must print one JSON
    object (name to bytes) as its last stdout line."""
    env = dict(os.environ, **WORKER_ENV)
    proc = subprocess.run(
        [sys.executable] + argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f'memory worker {argv} failed '
                           f'({proc.returncode}):\n{proc.stderr[-3000:]}')
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1])
