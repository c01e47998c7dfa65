"""A batch sampler that takes every batch from one data source, as
Unified Perceptual Parsing trains on sources that label different tasks."""
import math

import numpy as np
from mmengine.dist import get_dist_info
from torch.utils.data import BatchSampler

from upernet_mm.registry import DATA_SAMPLERS


def dataset_source_indices(dataset):
    """Source name -> indices of its samples, from the dataset's
    ``source_indices()`` or else from every sample's ``source`` data info."""
    if hasattr(dataset, 'source_indices'):
        return dataset.source_indices()
    groups = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        if 'source' not in info:
            raise ValueError(
                f'{type(dataset).__name__} sample {index} has no "source" in '
                'its data info; SourceBatchSampler needs a dataset whose '
                'samples name their source (e.g. UnifiedParsingDataset)')
        groups.setdefault(info['source'], []).append(index)
    return groups


def _cumulative(probs):
    """Cumulative probabilities, exactly 1 from the last source of positive
    weight on, so that a uniform draw in [0, 1) never lands on a source of
    weight 0 by rounding."""
    cumulative = np.cumsum(probs)
    cumulative[np.flatnonzero(probs > 0)[-1]:] = 1.0
    return cumulative


@DATA_SAMPLERS.register_module()
class SourceBatchSampler(BatchSampler):
    """Batches that each come from one data source.

    With an infinite sampler (``InfiniteSampler``, iteration-based training)
    every iteration draws a source with probability proportional to its
    number of samples, or to ``source_weights``, then takes the batch from
    that source's own stream: the source's samples shuffled anew each pass
    over it, split between the ranks. ``stages`` change the weights from
    given iterations on (e.g. the texture source alone in a final stage):
    the source of batch ``i`` depends only on the seed and ``i``, so it does
    not matter how far ahead the DataLoader prefetches, and a resumed run
    (mmengine skips the batches already trained) sees the same sequence.
    With a finite sampler (``DefaultSampler``, epoch-based training) an
    epoch is every source's samples once, cut into batches per source, the
    batches of all sources in a shuffled order (so sources come in
    proportion to their size; weights and stages are not supported).

    All random choices derive from the seed of ``sampler`` (the same on
    every rank: mmengine syncs it) and the batch, pass or epoch number,
    never from the rank: every rank uses the same source in an iteration,
    each with its own samples of it.

    The order in which ``sampler`` yields indices is not used, only its
    ``dataset``, ``seed``, ``shuffle``, ``rank``, ``world_size`` and
    ``epoch`` and whether it is infinite (no ``__len__`` over the data in
    one pass, as ``InfiniteSampler``).

    Args:
        sampler (Sampler): mmengine's ``InfiniteSampler`` or
            ``DefaultSampler`` built for the dataset.
        batch_size (int): Samples per batch.
        source_weights (dict, optional): Source name -> non-negative
            weight of drawing it in an iteration (infinite mode only), or
            ``'size'`` for its number of samples (read from the data);
            every source of the dataset must be given, 0 leaves a source
            out.
            Default: None (proportional to the sources' sizes).
        stages (list[dict], optional): ``dict(begin=ITER,
            source_weights=dict(...))``, ``begin`` increasing and > 0: from
            batch ``begin`` (0-based, counted from the start of training)
            on, draw with these weights (None: proportional to size).
            Default: None.
        drop_last (bool): Finite mode: drop each source's last incomplete
            batch. Infinite mode always fills its batches. Default: True.
    """

    def __init__(self,
                 sampler,
                 batch_size,
                 source_weights=None,
                 stages=None,
                 drop_last=True):
        if not isinstance(batch_size, int) or isinstance(
                batch_size, bool) or batch_size < 1:
            raise ValueError(f'batch_size must be a positive integer, got '
                             f'{batch_size!r}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.dataset = sampler.dataset
        rank, world_size = get_dist_info()
        self.rank = getattr(sampler, 'rank', rank)
        self.world_size = getattr(sampler, 'world_size', world_size)
        self.seed = int(getattr(sampler, 'seed', 0) or 0)
        self.shuffle = bool(getattr(sampler, 'shuffle', True))
        self.infinite = type(sampler).__name__ == 'InfiniteSampler' or \
            not hasattr(sampler, 'set_epoch')
        groups = dataset_source_indices(self.dataset)
        groups = {name: list(idx) for name, idx in groups.items() if idx}
        if not groups:
            raise ValueError('SourceBatchSampler: the dataset has no sample')
        self.sources = list(groups)
        self.source_indices = groups
        if (source_weights is not None or stages) and not self.infinite:
            raise ValueError(
                'SourceBatchSampler: source_weights and stages need an '
                'infinite sampler (InfiniteSampler, iteration-based '
                f'training); with {type(sampler).__name__} an epoch takes '
                'every source once')
        self.probs = self._probs(source_weights, 'source_weights')
        # (begin, cumulative probabilities), begin increasing
        self.stages = [(0, _cumulative(self.probs))]
        for i, stage in enumerate(stages or []):
            where = f'stages[{i}]'
            if not isinstance(
                    stage, dict) or set(stage) - {'begin', 'source_weights'
                                                  } or 'begin' not in stage:
                raise ValueError(
                    f'SourceBatchSampler {where} must be dict(begin=ITER, '
                    f'source_weights=dict(...)), got {stage!r}')
            begin = stage['begin']
            if not isinstance(begin, int) or isinstance(begin, bool) or \
                    begin <= self.stages[-1][0]:
                raise ValueError(
                    f'SourceBatchSampler {where}.begin must be an integer '
                    f'greater than {self.stages[-1][0]} (stages in order), '
                    f'got {begin!r}')
            probs = self._probs(
                stage.get('source_weights'), f'{where}.source_weights')
            self.stages.append((begin, _cumulative(probs)))

    def _probs(self, weights, where):
        """Probabilities of the sources, in the order of ``self.sources``."""
        if weights is None:
            probs = np.array(
                [len(self.source_indices[name]) for name in self.sources],
                np.float64)
            return probs / probs.sum()
        if not isinstance(weights, dict):
            raise ValueError(f'SourceBatchSampler {where} must be a dict '
                             f'source name -> weight, got {weights!r}')
        unknown = sorted(set(weights) - set(self.sources))
        missing = sorted(set(self.sources) - set(weights))
        if unknown or missing:
            raise ValueError(
                f'SourceBatchSampler {where} must name exactly the sources '
                f'of the dataset {self.sources}: unknown {unknown}, missing '
                f'{missing}')
        probs = []
        for name in self.sources:
            value = weights[name]
            if value == 'size':
                value = len(self.source_indices[name])
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not value >= 0 or \
                    not math.isfinite(value):
                raise ValueError(
                    f'SourceBatchSampler {where}: the weight of source '
                    f'{name!r} must be a finite number >= 0 or "size", '
                    f'got {value!r}')
            probs.append(float(value))
        probs = np.array(probs)
        if probs.sum() <= 0:
            raise ValueError(f'SourceBatchSampler {where} {weights} are all 0')
        return probs / probs.sum()

    def source_of_batch(self, uniform, index):
        """Index of the source of batch ``index`` given its uniform draw in
        [0, 1)."""
        stage = 0
        while stage + 1 < len(self.stages) and \
                self.stages[stage + 1][0] <= index:
            stage += 1
        cumulative = self.stages[stage][1]
        return int(np.searchsorted(cumulative, uniform, side='right'))

    # ------------------------------------------------------------ infinite

    def _stream(self, source_id):
        """This rank's endless share of one source's samples."""
        indices = self.source_indices[self.sources[source_id]]
        num = len(indices)
        per_rank = math.ceil(num / self.world_size)
        rounds = 0
        while True:
            if self.shuffle:
                order = np.random.default_rng(
                    [self.seed, 1, source_id, rounds]).permutation(num)
            else:
                order = np.arange(num)
            order = np.resize(order, per_rank * self.world_size)
            for position in order[self.rank::self.world_size]:
                yield indices[position]
            rounds += 1

    def _iter_infinite(self):
        # one uniform number per batch, the same whatever the stages: the
        # source of batch i depends on the seed and i only
        draws = np.random.default_rng([self.seed, 0])
        streams = [self._stream(i) for i in range(len(self.sources))]
        index = 0
        while True:
            source_id = self.source_of_batch(draws.random(), index)
            # a source of weight 0 never comes (its cumulative step is flat)
            stream = streams[source_id]
            yield [next(stream) for _ in range(self.batch_size)]
            index += 1

    # -------------------------------------------------------------- finite

    def _epoch_batches(self):
        epoch = int(getattr(self.sampler, 'epoch', 0))
        batches = []
        for source_id, name in enumerate(self.sources):
            indices = self.source_indices[name]
            num = len(indices)
            if self.shuffle:
                order = np.random.default_rng([self.seed, 2, source_id,
                                               epoch]).permutation(num)
            else:
                order = np.arange(num)
            per_rank = math.ceil(num / self.world_size)
            order = np.resize(order, per_rank * self.world_size)
            mine = [indices[i] for i in order[self.rank::self.world_size]]
            for start in range(0, per_rank, self.batch_size):
                batch = mine[start:start + self.batch_size]
                if len(batch) < self.batch_size and self.drop_last:
                    break
                batches.append(batch)
        if self.shuffle:
            order = np.random.default_rng([self.seed, 3,
                                           epoch]).permutation(len(batches))
            batches = [batches[i] for i in order]
        return batches

    def __iter__(self):
        if self.infinite:
            yield from self._iter_infinite()
        else:
            yield from self._epoch_batches()

    def __len__(self):
        """Batches of one epoch (finite mode) or of one pass over this
        rank's share of the data (infinite mode)."""
        total = 0
        for name in self.sources:
            per_rank = math.ceil(
                len(self.source_indices[name]) / self.world_size)
            if self.infinite or not self.drop_last:
                total += math.ceil(per_rank / self.batch_size)
            else:
                total += per_rank // self.batch_size
        return total
