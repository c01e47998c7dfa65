"""What a checkpoint needs so that ``--resume`` continues exactly like an
uninterrupted run, and loads with ``torch.load(weights_only=True)``.

mmengine's checkpoints hold the iteration, weights, optimizer and
schedulers; its resume re-seeds the generators with the run's seed and
replays the data of the finished iterations, so the sampler's order and the
dataloader workers' augmentations follow. What a replay cannot reproduce is
the state of the generators in the training processes at the save: the
Python, numpy, torch (and CUDA) generators that dropout, drop path and the
pipeline in the main process (``num_workers=0``) draw from, one per rank.
:func:`checkpoint_for_save` records them (and converts the message hub for
``weights_only``), :class:`RngReplayGuard` puts them back at the point the
uninterrupted run had reached.
"""
import logging
import os.path as osp
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.logging import print_log

from upernet_mm.safe_io.checkpoint_format import (from_weights_only,
                                                  to_weights_only)

RNG_KEY = 'rng_state'


class CheckpointContentError(ValueError):
    """A checkpoint entry that ``torch.load(weights_only=True)`` could not
    load back, found when the checkpoint is written."""


def rng_state() -> dict:
    """The state of this process's Python, numpy, torch (and CUDA)
    generators, as plain values and tensors."""
    version, internal, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    numpy_state['state']['key'] = torch.from_numpy(
        numpy_state['state']['key'].astype(np.int64))
    state = dict(
        python=dict(version=version, internal=list(internal), gauss=gauss),
        numpy=numpy_state,
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Set this process's generators to a state from :func:`rng_state`."""
    python = state['python']
    random.setstate(
        (python['version'], tuple(python['internal']), python['gauss']))
    numpy_state = dict(state['numpy'])
    key = numpy_state['state']['key']
    key = key.numpy() if isinstance(key, torch.Tensor) else np.asarray(key)
    numpy_state['state'] = dict(
        numpy_state['state'], key=key.astype(np.uint32))
    np.random.set_state(numpy_state)
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def gather_rng_states(state=None) -> list:
    """:func:`rng_state` (or ``state``) of every rank, in rank order. A
    collective call in a distributed run: every rank must make it."""
    state = rng_state() if state is None else state
    if get_world_size() == 1:
        return [state]
    return all_gather_object(state)


def checkpoint_for_save(checkpoint: dict, where: str, rng_states=None) -> dict:
    """The checkpoint as it is written: the random states of the ranks
    added, history buffers and numpy values converted so that it loads with
    ``torch.load(weights_only=True)``.

    Args:
        checkpoint (dict): What the runner and the hooks put together.
        where (str): The hook that saves, for the message.
        rng_states (list | None): From :func:`gather_rng_states`; None
            saves no random state.

    Returns:
        dict: The converted checkpoint (``checkpoint`` is not modified).

    Raises:
        CheckpointContentError: Naming every entry that is not plain data
            (tensors, numbers, strings, lists, dicts, numpy values, history
            buffers): such a checkpoint could only be resumed by unpickling
            code, so it is refused at the first save rather than at the
            resume that needs it.
    """
    unsupported = []
    if rng_states is not None:
        checkpoint = dict(checkpoint, **{RNG_KEY: rng_states})
    converted = to_weights_only(checkpoint, unsupported=unsupported)
    if unsupported:
        entries = ', '.join(f'{path} ({kind})' for path, kind in unsupported)
        raise CheckpointContentError(
            f'{where}: the checkpoint holds entries that are not plain data '
            f'and would need an unsafe (pickle) load to resume: {entries}. '
            'Store tensors, numbers, strings, lists or dicts there (e.g. a '
            'state_dict() instead of the object).')
    return converted


def checkpoint_after_load(checkpoint: dict):
    """Undo :func:`checkpoint_for_save`.

    Returns:
        tuple[dict, list | None]: The restored checkpoint, without the
        random states, and the random states (one per rank of the saving
        run; None for a checkpoint without them).
    """
    restored = from_weights_only(checkpoint)
    return restored, restored.pop(RNG_KEY, None)


def rng_state_of_rank(states):
    """This rank's entry of a list from :func:`gather_rng_states`, or a
    message saying why there is none (another number of processes)."""
    world_size = get_world_size()
    if len(states) != world_size:
        return None, (
            f'the checkpoint holds the random state of {len(states)} '
            f'process(es) but this run has {world_size}')
    return states[get_rank()], None


class RngReplayGuard:
    """Wraps the training dataloader's iterator while mmengine's
    ``IterBasedTrainLoop`` replays the data of the resumed iterations: the
    replay does not advance this process's generators, and after the last
    replayed batch they are set to ``state``, the state the saving run had
    when it fetched its next batch.

    Args:
        iterator: The loop's ``dataloader_iterator``.
        num_replayed (int): Batches the loop skips (the resumed iteration).
        state (dict): From :func:`rng_state`.
    """

    def __init__(self, iterator, num_replayed: int, state: dict):
        self.iterator = iterator
        self.remaining = num_replayed
        self.state = state

    def __iter__(self):
        return self

    def __next__(self):
        if self.remaining <= 0:
            return next(self.iterator)
        self.remaining -= 1
        batch = next(self.iterator)
        if self.remaining == 0:
            restore_rng_state(self.state)
        return batch

    def __getattr__(self, name):
        # _InfiniteDataloaderIterator's other attributes (e.g. _dataloader)
        return getattr(self.iterator, name)


def resume_checkpoint(cfg):
    """The checkpoint that ``resume=True`` will load: ``load_from`` if set,
    else the one named by the work dir's ``last_checkpoint``. A path there
    that no longer exists (the work dir was moved or copied) is looked up by
    its file name in the work dir.

    Args:
        cfg (Config): A config with ``work_dir``.

    Returns:
        str | None: The checkpoint, None if there is none to resume from.
    """
    if cfg.get('load_from'):
        return cfg.load_from
    pointer = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        path = f.read().strip()
    if not path or '://' in path or osp.isfile(path):
        return path or None
    moved = osp.join(cfg.work_dir, osp.basename(path))
    if osp.isfile(moved):
        print_log(
            f'{pointer} names {path}, which does not exist; resuming '
            f'from {moved} (the work dir was moved)',
            logger='current',
            level=logging.WARNING)
        return moved
    return path


def checkpoint_seed(path):
    """The ``meta.seed`` of a local checkpoint (tensors are memory-mapped,
    not read), or None if it has none or cannot be read safely."""
    if '://' in str(path) or not osp.isfile(path):
        return None
    try:
        checkpoint = torch.load(
            path, map_location='cpu', mmap=True, weights_only=True)
    except Exception:  # the resume itself reports what is wrong
        return None
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    seed = meta.get('seed') if isinstance(meta, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) \
        else None


def prepare_resume(cfg) -> None:
    """Before the Runner is built for ``resume=True``: name the checkpoint
    in ``load_from`` (see :func:`resume_checkpoint`) and set
    ``randomness.seed`` to the one the checkpoint was written with.

    mmengine builds the sampler and the dataloader workers with the seed of
    the config (a random one if unset, as in mmseg's configs) before it
    reads the checkpoint, so without this a resumed run draws other samples
    and augmentations than the run it continues.

    Args:
        cfg (Config): The complete config; modified in place.
    """
    if not cfg.get('resume'):
        return
    path = resume_checkpoint(cfg)
    if path is None:
        return
    cfg.load_from = path
    seed = checkpoint_seed(path)
    if seed is None:
        return
    randomness = dict(cfg.get('randomness') or {})
    if randomness.get('seed') not in (None, seed):
        print_log(
            f'randomness.seed={randomness["seed"]} of the config is '
            f'replaced by {seed}, the seed of the resumed checkpoint '
            f'{path}',
            logger='current',
            level=logging.WARNING)
    randomness['seed'] = seed
    cfg.randomness = randomness
