"""mmseg's ``SegDataPreProcessor`` that also pads the part and material
label maps of Unified Perceptual Parsing."""
from typing import Any, Dict

import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor

from upernet_mm.registry import MODELS

EXTRA_SEG_FIELDS = ('gt_part_seg', 'gt_material_seg')


@MODELS.register_module()
class UnifiedParsingDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` whose training batches pad
    ``gt_part_seg`` and ``gt_material_seg`` exactly as ``gt_sem_seg``
    (same ``padding_size``, ``seg_pad_val``): mmseg pads only
    ``gt_sem_seg``, so a batch that needs padding would otherwise have
    label maps of different sizes.

    Raises:
        ValueError: If a sample's part or material map does not have the
            size of its object map (naming the field, both shapes and the
            image).
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        before = {}
        samples = data.get('data_samples') if training else None
        if samples:
            for i, sample in enumerate(samples):
                if 'gt_sem_seg' not in sample:
                    continue
                shape = tuple(sample.gt_sem_seg.data.shape)
                for field in EXTRA_SEG_FIELDS:
                    if field in sample:
                        extra = tuple(getattr(sample, field).data.shape)
                        if extra != shape:
                            raise ValueError(
                                f'{field} has shape {extra} but gt_sem_seg '
                                f'has {shape} (img_path='
                                f'{sample.metainfo.get("img_path")!r}); a '
                                'transform changed one label map and not '
                                'the other')
                before[i] = shape
        out = super().forward(data, training)
        if not training:
            return out
        for i, sample in enumerate(out['data_samples']):
            if i not in before:
                continue
            padding = sample.metainfo.get('padding_size', [0, 0, 0, 0])
            for field in EXTRA_SEG_FIELDS:
                if field in sample:
                    element = getattr(sample, field)
                    padded = F.pad(
                        element.data, tuple(padding), value=self.seg_pad_val)
                    del element.data
                    element.data = padded
        return out
