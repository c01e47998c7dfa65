"""The FLOP floor: model MACs over the measured throughput of a plain large
3x3 convolution in the same precision."""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from .timing import interleaved_times, median


def count_macs(module: nn.Module, inputs: Tuple) -> int:
    """Multiply-accumulates of one forward, by mmengine's ``FlopAnalyzer``
    (which counts one MAC per multiply-add, as fvcore does)."""
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return int(analyzer.total())


def macs_by_module(module: nn.Module, inputs: Tuple) -> Dict[str, int]:
    """Multiply-accumulates of one forward per submodule name ('' is the
    whole module), by mmengine's ``FlopAnalyzer``."""
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return {k: int(v) for k, v in analyzer.by_module().items()}


def conv_throughput(channels: int = 512,
                    size: int = 128,
                    reps: int = 5) -> Dict[str, float]:
    """MAC/s of a 3x3 ``channels``->``channels`` convolution on a
    ``size``x``size`` map (batch 1, no grad), in float32 and bfloat16, each in
    its faster memory format (NCHW or channels_last).

    Returns:
        dict[str, float]: ``{'fp32': macs_per_s, 'bf16': macs_per_s}``.
    """
    macs = channels * channels * 9 * size * size
    gen = torch.Generator().manual_seed(0)
    fns, best = {}, {}
    for dtype, name in ((torch.float32, 'fp32'), (torch.bfloat16, 'bf16')):
        for fmt in (torch.contiguous_format, torch.channels_last):
            conv = nn.Conv2d(channels, channels, 3, padding=1).eval()
            conv = conv.to(dtype=dtype, memory_format=fmt)
            x = torch.randn(
                1, channels, size, size, generator=gen).to(
                    dtype=dtype, memory_format=fmt)

            def run(conv=conv, x=x):
                with torch.no_grad():
                    conv(x)

            fns[(name, str(fmt))] = run
    keyed = {f'{k[0]}|{k[1]}': f for k, f in fns.items()}
    times = interleaved_times(keyed, warmup=2, reps=reps)
    for key, ts in times.items():
        name = key.split('|')[0]
        best[name] = max(best.get(name, 0.0), macs / median(ts))
    return best
