"""One module per section of ``tools/analysis_tools/benchmark.py``: each
has ``run(settings, opts, conv_peak) -> (title, table, data)``
(``settings`` from :mod:`upernet_mm.benchmark.settings`, ``opts`` the
tool's options plus ``memory(section)`` and ``tmpdir``, ``conv_peak`` the
measured 3x3 convolution throughput per precision, MAC/s); ``head`` and
``train`` also have ``callables(settings)``, whose peak memory the tool
measures in a worker process."""
from . import accuracy, head, layers, model, slide, train

RUNNERS = dict(
    head=head.run,
    model=model.run,
    layers=layers.run,
    train=train.run,
    slide=slide.run,
    accuracy=accuracy.run)

__all__ = ['RUNNERS', 'accuracy', 'head', 'layers', 'model', 'slide', 'train']
