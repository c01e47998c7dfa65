"""Checks of a segmentation dataset before training, each raising
:class:`DataCheckError` naming the field, file or value at fault.

* :mod:`.folders`: folders, file lists and names, nothing decoded (cheap,
  run before every training);
* :mod:`.decoding`: every sample decoded as the pipeline does, label values
  against the heads' classes (``tools/train.py --check-data``).

The other checks, each in the layer that uses it:
``upernet_mm.datasets.unified_parsing_check`` (the part and material maps
of unified parsing samples), ``upernet_mm.engine.data_startup_check`` (a
training config's data against its model, run by ``tools/train.py``; it
calls the checks here), ``upernet_mm.models.head_input_check`` (a model's
head inputs, checked when the model is built) and the completeness checks
of the generated datasets (``upernet_mm.datasets.generated_folder``).
"""
from .decoding import check_sample, check_samples, pipeline_decoding
from .errors import DataCheckError
from .folders import (check_annotations_exist,
                      check_annotations_without_images, check_data_folders,
                      check_folder_tree, check_not_empty)

__all__ = [
    'DataCheckError', 'check_data_folders', 'check_folder_tree',
    'check_annotations_without_images', 'check_not_empty',
    'check_annotations_exist', 'pipeline_decoding', 'check_sample',
    'check_samples'
]
