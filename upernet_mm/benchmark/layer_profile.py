"""Where the time goes: wall time per module, from forward hooks.

On the CPU every op runs synchronously, so the time between a module's
forward pre-hook and its forward hook is the time spent inside it.
"""
import time
from collections import defaultdict
from typing import Callable, Dict, List

import torch.nn as nn


def module_times(model: nn.Module,
                 names: List[str],
                 fn: Callable[[], object],
                 reps: int = 1) -> Dict[str, float]:
    """Median over ``reps`` calls of ``fn`` of the seconds spent in each
    module of ``names`` (summed over its calls within one call of ``fn``),
    plus ``'total'``.

    Args:
        model (nn.Module): Holds the modules (``model.get_submodule``).
        names (list[str]): Dotted module names; nested names are allowed
            but then their times overlap.
        fn (callable): One measured call (e.g. a forward of ``model``).
        reps (int): Calls to take the median of. Default: 1.
    """
    runs = []
    starts = {}
    current = defaultdict(float)

    def pre(name):

        def hook(module, args):
            starts[name] = time.perf_counter()

        return hook

    def post(name):

        def hook(module, args, output):
            current[name] += time.perf_counter() - starts.pop(name)

        return hook

    handles = []
    for name in names:
        module = model.get_submodule(name)
        handles.append(module.register_forward_pre_hook(pre(name)))
        handles.append(module.register_forward_hook(post(name)))
    try:
        for _ in range(reps):
            current.clear()
            start = time.perf_counter()
            fn()
            current['total'] = time.perf_counter() - start
            runs.append(dict(current))
    finally:
        for h in handles:
            h.remove()
    keys = list(names) + ['total']
    return {
        k: sorted(r.get(k, 0.0) for r in runs)[len(runs) // 2]
        for k in keys
    }


def uper_layers(model: nn.Module) -> List[str]:
    """The coarse layers of an UPerNet: backbone children that are module
    lists expanded one level, then each decode-head block."""
    names = []
    for name, child in model.backbone.named_children():
        if isinstance(child, (nn.ModuleList, nn.Sequential)) and len(child):
            names += [f'backbone.{name}.{i}' for i in range(len(child))]
        elif any(True for _ in child.parameters()):
            names.append(f'backbone.{name}')
    head = model.decode_head
    for name, child in head.named_children():
        if name in ('loss_decode',
                    'dropout') or not any(True for _ in child.parameters()):
            continue
        if isinstance(child, nn.ModuleList) and name != 'psp_modules':
            names += [f'decode_head.{name}.{i}' for i in range(len(child))]
        else:
            names.append(f'decode_head.{name}')
    return names
