"""Two-process (gloo, CPU) training of the tiny unified parsing model for
the DDP tests, and its single-process reference.

Every norm layer of the model is :class:`AllReduceGN`: GroupNorm followed
by a cross-rank all-reduce in every forward pass, a stand-in for SyncBN
(which needs CUDA). Ranks that run different heads then pair their
collectives wrongly and the run hangs or fails, as it would with SyncBN on
GPUs. The workers run in ``torch.multiprocessing`` spawn processes started
by :func:`run_two_ranks`, which joins them with a timeout: a hang is a
failed test, never a hung suite.
"""
import copy
import os
import os.path as osp
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from helpers.unified_parsing_model import (build_model, make_batch,
                                           tiny_upp_model)

# seconds a collective may wait before it fails (a hang ends as an error)
COLLECTIVE_TIMEOUT = 60


class AllReduceGN(nn.GroupNorm):
    """GroupNorm whose output is multiplied by the all-reduced count of
    ranks divided by the world size (exactly 1): GroupNorm's numbers with a
    collective in every forward pass, as SyncBN has. Without a process
    group it is GroupNorm."""

    _abbr_ = 'gn'

    def __init__(self, num_features, num_groups=4, eps=1e-5, affine=True):
        super().__init__(num_groups, num_features, eps=eps, affine=affine)

    def forward(self, x):
        out = super().forward(x)
        if dist.is_available() and dist.is_initialized():
            count = torch.ones(1)
            dist.all_reduce(count)
            out = out * (count / dist.get_world_size())
        return out


def model_config():
    """The tiny model with :class:`AllReduceGN` everywhere (backbone,
    trunk and every head)."""
    return tiny_upp_model(norm_cfg=dict(type=AllReduceGN, num_groups=4))


def rank_batches(rank):
    """The batches of ``rank``, one per step, each rank's batch of a step
    from the same source (as ``SourceBatchSampler`` draws them):

    0. scenes (object, part, scene); rank 1's part maps are all 255 (no
       part label on this rank);
    1. materials; rank 1's material maps are all 255;
    2. scenes without any label on either rank: no optimizer step.
    """
    scenes = make_batch('scenes', num=2, seed=10 * rank)
    if rank == 1:
        for sample in scenes['data_samples']:
            sample.gt_part_seg.data[:] = 255
    materials = make_batch('materials', num=2, seed=10 * rank + 1)
    if rank == 1:
        for sample in materials['data_samples']:
            sample.gt_material_seg.data[:] = 255
    empty = make_batch('scenes', num=2, seed=10 * rank + 2, scene=-1)
    for sample in empty['data_samples']:
        for field in ('gt_sem_seg', 'gt_part_seg', 'gt_material_seg'):
            getattr(sample, field).data[:] = 255
    return [scenes, materials, empty]


def _optim_wrapper(model):
    return OptimWrapper(
        torch.optim.SGD(
            model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3))


def _model():
    torch.manual_seed(0)
    model = build_model(model_config())
    model.train()
    return model


def _worker(rank, world_size, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=COLLECTIVE_TIMEOUT))
    try:
        model = _model()
        ddp = MMDistributedDataParallel(
            module=model, device_ids=None, find_unused_parameters=True)
        optim = _optim_wrapper(model)
        for batch in rank_batches(rank):
            ddp.train_step(batch, optim)
        torch.save(model.state_dict(), osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def run_two_ranks(out_dir, timeout=300):
    """Train on :func:`rank_batches` in 2 gloo processes with mmengine's
    DDP wrapper; return each rank's final state dict.

    Raises:
        AssertionError: If a process fails or does not end within
            ``timeout`` seconds (then both are killed).
    """
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    ctx = mp.get_context('spawn')
    init_file = osp.join(out_dir, 'init')
    procs = [
        ctx.Process(target=_worker, args=(rank, 2, init_file, out_dir))
        for rank in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout)
    hung = [rank for rank, proc in enumerate(procs) if proc.is_alive()]
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert not hung, f'ranks {hung} did not finish within {timeout} s'
    codes = [proc.exitcode for proc in procs]
    assert codes == [0, 0], f'exit codes of the 2 ranks: {codes}'
    return [
        torch.load(osp.join(out_dir, f'rank{rank}.pth'), weights_only=True)
        for rank in range(2)
    ]


def single_process_reference():
    """The same steps in one process: each step's loss is the mean of the
    two ranks' losses (what DDP's gradient averaging computes); the model
    is the same (its all-reduce is a no-op without a process group)."""
    model = _model()
    optim = _optim_wrapper(model)
    steps = list(zip(rank_batches(0), rank_batches(1)))
    for batches in steps:
        total = 0
        for batch in batches:
            data = model.data_preprocessor(copy.deepcopy(batch), True)
            loss, _ = model.parse_losses(model(**data, mode='loss'))
            total = total + loss / len(batches)
        optim.update_params(total)
    return model.state_dict()
