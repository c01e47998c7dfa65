"""Benchmark upernet_mm against mmseg and transformers on this machine.

Each section is a module of ``upernet_mm/benchmark/sections/`` (what it
compares is in its docstring); this file is the command line around them.
Every comparison runs in one process with identical weights and inputs,
interleaved repetitions after warm-up, and prints medians and ratios (it
never asserts timings). Peak memory is measured in a worker process (see
``upernet_mm/benchmark/memory.py`` for what it counts).

Sections:
  head   decode head alone (ConvNeXt-T widths, 512x512 image features,
         channels 512): eval forward and train forward+backward, time and
         peak memory, upernet_mm vs mmseg vs transformers;
  model  UPerNet ConvNeXt-T at 512x512, eval: upernet_mm, its deploy form
         (fp32 and bf16), mmseg, transformers, onnxruntime on our export
         (fp32 and int8), OpenVINO on our IR (fp32, bf16, int8): time,
         share of the conv peak, peak memory, agreement with our fp32;
  layers where the time of the whole model goes, per layer: mmseg fp32
         against our deploy form in fp32 and bf16;
  train  training throughput and peak memory of the quick-start config,
         our heads vs mmseg's (and ours with bf16 autocast);
  slide  sliding-window inference of a 2048x1024 image, sequential vs
         batched crops;
  accuracy  (with --checkpoint) a trained model on its validation split:
         mIoU of the original fp32 model and of the deploy forms, and the
         share of pixels given the same class.
Each time is also given as a fraction of its FLOP floor: MACs divided by
the throughput of a plain large 3x3 convolution measured here in the same
precision (training: 3x the forward MACs); the int8 conv is statically
quantized by each int8 runtime installed, and the fastest counts.

Example:
    # everything (~15 min, 2 cores)
    python tools/analysis_tools/benchmark.py
    # small sizes, for tests
    python tools/analysis_tools/benchmark.py --quick
    python tools/analysis_tools/benchmark.py --sections head model --reps 7
"""
import argparse
import json
import os.path as osp
import platform
import sys
import tempfile

import torch

from upernet_mm.benchmark import sections
from upernet_mm.benchmark.floor import conv_throughput
from upernet_mm.benchmark.int8 import int8_conv_throughput
from upernet_mm.benchmark.memory import can_measure, measure_all, run_worker
from upernet_mm.benchmark.settings import FULL, QUICK, QUICK_START, SECTIONS
from upernet_mm.cli_args import tool_parser
from upernet_mm.utils import register_all_modules


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument(
        '--quick', action='store_true', help='small sizes, a few seconds')
    parser.add_argument(
        '--sections', nargs='+', choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        '--reps',
        type=int,
        default=None,
        help='timed interleaved repetitions (default 5, --quick 1)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed rounds first')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--no-memory', action='store_true', help='skip peak memory')
    parser.add_argument(
        '--no-onnx', action='store_true', help='skip onnxruntime')
    parser.add_argument(
        '--no-openvino', action='store_true', help='skip OpenVINO')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='model section: also our deploy form under torch.compile '
        '(bf16, Inductor with freezing; compiling takes minutes)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument(
        '--checkpoint',
        help='trained checkpoint for the accuracy section (which runs only '
        'with it)')
    parser.add_argument(
        '--config',
        default=QUICK_START,
        help='config of --checkpoint (default: the quick start)')
    # internal: measure the peak memory of one section in this process
    parser.add_argument(
        '--memory-worker', choices=SECTIONS, help=argparse.SUPPRESS)
    parser.add_argument('--memory-manifest', help=argparse.SUPPRESS)
    parser.add_argument('--memory-form', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measuring_memory(args) -> bool:
    """Whether peak memory is measured (not ``--no-memory``, and it can be
    here; says why not)."""
    if args.no_memory:
        return False
    reason = can_measure()
    if reason:
        print(f'peak memory not measured: {reason}')
    return not reason


def worker_argv(args, section, *extra):
    """Command line of a memory worker for ``section``."""
    argv = [
        osp.abspath(__file__), '--memory-worker', section, '--threads',
        str(args.threads)
    ] + list(extra)
    return argv + (['--quick'] if args.quick else [])


def memory(args, section):
    """Peak memory of ``section``'s candidates from a worker process."""
    if not measuring_memory(args):
        return {}
    return run_worker(worker_argv(args, section))


def memory_of_forms(args, section, manifest, names):
    """(held, call) bytes of each of ``names``, each measured in its own
    worker process from ``manifest`` (see ``sections.model.form_memory``)."""
    if not measuring_memory(args):
        return {}
    path = osp.join(args.tmpdir, f'{section}_manifest.json')
    with open(path, 'w') as f:
        json.dump(manifest, f)
    result = {}
    for name in names:
        argv = worker_argv(args, section, '--memory-manifest', path,
                           '--memory-form', name)
        result[name] = tuple(run_worker(argv)['form'])
    return result


def memory_worker(args, settings):
    section = args.memory_worker
    s = settings[section]
    if section == 'model':
        with open(args.memory_manifest) as f:
            manifest = json.load(f)
        print(
            json.dumps(
                dict(
                    form=sections.model.memory_worker(s, args, manifest,
                                                      args.memory_form))))
        return
    if section == 'head':
        _, _, evals, trains = sections.head.callables(s)
        fns = {f'eval/{n}': f for n, f in evals.items()}
        fns.update({f'train/{n}': f for n, f in trains.items()})
    elif section == 'train':
        fns = sections.train.callables(s)[0]
    else:
        sys.exit(f'error: no memory measurement for section {section}')
    print(
        json.dumps(measure_all(fns, warmup=1, rounds=1 if args.quick else 3)))


def machine() -> str:
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return (f'{cpu}, {torch.get_num_threads()} threads, torch '
            f'{torch.__version__}, Python {platform.python_version()}')


def loadavg() -> str:
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def quiet_logs():
    """Only warnings from mmengine's logger (builders log every param)."""
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = QUICK if args.quick else FULL
    args.reps_default = args.reps is None
    if args.reps is None:
        args.reps = 1 if args.quick else 5
    register_all_modules(init_default_scope=False)
    quiet_logs()
    if args.memory_worker:
        memory_worker(args, settings)
        return
    print(f'machine: {machine()}')
    print(f'load average before: {loadavg()}')
    tput = {}
    if set(args.sections) - {'accuracy', 'slide'}:
        tput = conv_throughput(**settings['conv'], reps=max(args.reps, 3))
        print('plain 3x3 conv {c}->{c} on {n}x{n}: '.format(
            c=settings['conv']['channels'], n=settings['conv']['size']) +
              ', '.join(f'{k} {v / 1e9:.1f} GMAC/s' for k, v in tput.items()))
    results = dict(machine=machine(), conv_macs_per_s=tput)
    args.memory = lambda section: memory(args, section)
    args.memory_of_forms = lambda *a: memory_of_forms(args, *a)
    with tempfile.TemporaryDirectory() as tmpdir:
        args.tmpdir = tmpdir
        if 'model' in args.sections and not (args.no_onnx
                                             and args.no_openvino):
            by_runtime = int8_conv_throughput(
                tmpdir,
                **settings['conv'],
                reps=max(args.reps, 3),
                threads=args.threads)
            if by_runtime:
                tput['int8'] = max(by_runtime.values())
                results['int8_conv_macs_per_s'] = by_runtime
                print('the same conv in int8 (static quantization): ' +
                      ', '.join(f'{k} {v / 1e9:.1f} GMAC/s'
                                for k, v in by_runtime.items()))
        for section in args.sections:
            title, table, data = sections.RUNNERS[section](settings[section],
                                                           args, tput)
            print(
                f'\n## {title}\n{table}\n(load average after: '
                f'{loadavg()})',
                flush=True)
            results[section] = data
    print(f'\nload average after: {loadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == '__main__':
    sys.exit(main())
