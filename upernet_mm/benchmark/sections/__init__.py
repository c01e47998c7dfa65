"""One module per section of ``tools/analysis_tools/benchmark.py``: each
has ``run(settings, opts, tput) -> (title, table, data)`` (``settings`` from
:mod:`upernet_mm.benchmark.settings`, ``opts`` the tool's options plus
``memory(section)`` and ``tmpdir``, ``tput`` the measured conv throughput
per precision); ``head`` and ``train`` also have ``callables(settings)``,
whose peak memory the tool measures in a worker process."""
from . import accuracy, head, layers, model, slide, train

RUNNERS = dict(head=head.run, model=model.run, layers=layers.run,
               train=train.run, slide=slide.run, accuracy=accuracy.run)

__all__ = ['RUNNERS', 'accuracy', 'head', 'layers', 'model', 'slide',
           'train']
