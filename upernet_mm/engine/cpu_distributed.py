"""Distributed training and testing on machines without CUDA.

mmengine's launchers call ``torch.cuda.set_device`` and fail without a GPU,
its DDP wrapper passes ``device_ids=[LOCAL_RANK]``, which DDP rejects for CPU
modules, and ``SyncBN`` raises on CPU. :func:`setup_cpu_distributed` handles
the three so that ``tools/dist_train.sh`` really trains with DDP over gloo on
a CPU machine.
"""
import os
import subprocess
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

from .timeouts import DIST_TIMEOUT


def _first_slurm_host(nodelist: str) -> str:
    """The first host name of a SLURM node list (``node[1-4]``), expanded by
    ``scontrol show hostnames`` run without a shell (the list is passed as
    one argument, whatever it holds).

    Raises:
        RuntimeError: If scontrol is missing, fails or prints nothing.
    """
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', nodelist],
                             capture_output=True,
                             text=True,
                             timeout=60,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeError(
            f'--launcher slurm: cannot expand SLURM_NODELIST={nodelist!r} '
            f'with `scontrol show hostnames` ({error}); set MASTER_ADDR '
            'to the first node\'s address') from None
    hosts = out.split()
    if not hosts:
        raise RuntimeError(
            f'--launcher slurm: `scontrol show hostnames {nodelist}` printed '
            'no host; set MASTER_ADDR to the first node\'s address')
    return hosts[0]


def _env_from_launcher(launcher: str) -> None:
    """Set RANK, WORLD_SIZE, LOCAL_RANK (and MASTER_* for slurm) from the
    launcher's own variables, as mmengine's ``init_dist`` does."""
    if launcher == 'pytorch':
        missing = [
            k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
            if k not in os.environ
        ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch needs the environment variables '
                f'{missing}, which torchrun sets; start the job with '
                'tools/dist_train.sh or torchrun')
    elif launcher == 'slurm':
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = _first_slurm_host(
                os.environ['SLURM_NODELIST'])
    elif launcher == 'mpi':
        os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
        os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
        os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', '29500')
    else:
        raise ValueError(f'unknown launcher {launcher!r}')
    os.environ.setdefault('LOCAL_RANK', '0')


def _sync_bn_to_bn(node) -> int:
    """Replace ``type='SyncBN'`` by ``'BN'`` in a config tree in place and
    return how many were replaced."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _sync_bn_to_bn(value)
    return count


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare a distributed run when CUDA is not available.

    Initialises the process group with gloo (before the Runner, which then
    skips mmengine's CUDA-only launcher code), makes the DDP wrapper use no
    ``device_ids`` and turns ``SyncBN`` into per-process ``BN`` with a
    logged notice. Does nothing when ``launcher`` is ``'none'`` or CUDA is
    available.

    Args:
        cfg (Config): The run's config; modified in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: Whether the CPU set-up was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    _env_from_launcher(launcher)
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    timeout = dist_cfg.get('timeout', DIST_TIMEOUT)
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            timeout=timedelta(seconds=timeout))
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'

    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper

    replaced = _sync_bn_to_bn(cfg.model)
    if replaced:
        print_log(
            f'No CUDA device: {replaced} SyncBN layer config(s) of the model '
            'are reverted to BN (SyncBatchNorm only works on GPU); each of '
            f'the {os.environ["WORLD_SIZE"]} processes normalises over its '
            'own batch.',
            logger='current')
    return True
