"""Registry nodes of upernet_mm, children of mmsegmentation's.

Every node has the scope ``upernet_mm``. With ``default_scope='upernet_mm'``
a type is looked up here first and then in mmseg's and mmengine's nodes, so a
config can use our ``UPerHead`` and ``UPerEncoderDecoder`` together with
mmseg's backbones, transforms, datasets and metrics (upstream names mean
upstream classes: ``EncoderDecoder`` is mmseg's in every scope), and other
packages' modules with a scope prefix (``mmpretrain.ConvNeXt``,
``mmseg.EncoderDecoder``). In mmseg's scope our modules are reached with
the prefix (``upernet_mm.UPerHead``): mmengine imports this module on demand
and ``locations`` import the implementations lazily, so no ``custom_imports``
is needed.

Every lookup in these nodes first calls
:func:`upernet_mm.safe_io.register_safe_loaders` (idempotent): whoever
builds anything of our scope (our tools, mmseg's ``init_model``, a plain
mmengine ``Runner``) loads checkpoints afterwards with upernet_mm's
weights-only loaders, whatever was imported before. (The ``hf://`` scheme,
which needs the converters, is added by
:func:`upernet_mm.checkpoint_loaders.install_checkpoint_loaders`: the
tools, the apis and ``register_all_modules`` call it.)
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

from upernet_mm.safe_io import register_safe_loaders

SCOPE = 'upernet_mm'


class ScopeRegistry(Registry):
    """A registry node of the ``upernet_mm`` scope: a lookup installs
    upernet_mm's weights-only checkpoint loaders before it resolves the
    name."""

    def get(self, key):
        register_safe_loaders()
        return super().get(key)


def _child(name, parent, locations=()):
    # A child registry imports only its own locations on lookup, so it also
    # takes over mmseg's, to find mmseg's modules before anyone imported them.
    return ScopeRegistry(
        name,
        parent=parent,
        scope=SCOPE,
        locations=list(locations) + list(parent._locations))


RUNNERS = _child('runner', MMSEG_RUNNERS)
RUNNER_CONSTRUCTORS = _child('runner constructor', MMSEG_RUNNER_CONSTRUCTORS)
LOOPS = _child('loop', MMSEG_LOOPS)
HOOKS = _child('hook', MMSEG_HOOKS, ['upernet_mm.engine.hooks'])

DATASETS = _child('dataset', MMSEG_DATASETS, ['upernet_mm.datasets'])
DATA_SAMPLERS = _child('data sampler', MMSEG_DATA_SAMPLERS,
                       ['upernet_mm.datasets'])
TRANSFORMS = _child('transform', MMSEG_TRANSFORMS, ['upernet_mm.datasets'])

MODELS = _child('model', MMSEG_MODELS, ['upernet_mm.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMSEG_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMSEG_WEIGHT_INITIALIZERS)

OPTIMIZERS = _child('optimizer', MMSEG_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMSEG_OPTIM_WRAPPERS,
                        ['upernet_mm.engine.optim_wrappers'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMSEG_PARAM_SCHEDULERS)

METRICS = _child('metric', MMSEG_METRICS, ['upernet_mm.evaluation'])
EVALUATOR = _child('evaluator', MMSEG_EVALUATOR)
TASK_UTILS = _child('task util', MMSEG_TASK_UTILS)

VISUALIZERS = _child('visualizer', MMSEG_VISUALIZERS)
VISBACKENDS = _child('vis_backend', MMSEG_VISBACKENDS)
LOG_PROCESSORS = _child('log_processor', MMSEG_LOG_PROCESSORS)
INFERENCERS = _child('inferencer', MMSEG_INFERENCERS)
