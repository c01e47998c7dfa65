"""CamVidDataset: CamVid street scenes in the layout the SegNet authors
distribute (11 classes plus void, 480x360)."""
import os.path as osp
from typing import List

from mmseg.datasets import BaseSegDataset

from upernet_mm.registry import DATASETS

# Label value of unlabelled pixels in the SegNet files, right after the
# classes; the dataset maps it to the pipeline's ignore index.
VOID = 11
IGNORE_INDEX = 255
# The SegNet splits: images and their label maps under the same file names.
SPLITS = {
    'train': dict(img_path='train', seg_map_path='trainannot'),
    'val': dict(img_path='val', seg_map_path='valannot'),
    'test': dict(img_path='test', seg_map_path='testannot'),
}


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid (Brostow et al., 2009) in the SegNet form.

    ``data_root`` holds ``train/``, ``val/``, ``test/`` with 480x360 RGB
    ``.png`` images and ``trainannot/``, ``valannot/``, ``testannot/`` with
    8-bit ``.png`` label maps of the same file names (class indices 0-10 in
    the order of ``METAINFO['classes']``, 11 = void). Give the split with
    ``data_prefix``, e.g. ``dict(img_path='train',
    seg_map_path='trainannot')`` (``SPLITS`` lists the three).

    Void (11) is mapped to 255 when a label map is loaded (mmseg's
    ``label_map``, applied by ``LoadAnnotations``), so the losses and
    ``IoUMetric`` ignore it with their default ``ignore_index=255`` and the
    metrics are the literature's 11-class ones. Every image must have its
    label map: a missing one is an error naming both files, raised when the
    data list is loaded rather than in a dataloader worker mid-training.

    Args:
        img_suffix (str): Suffix of images. Default: '.png'.
        seg_map_suffix (str): Suffix of label maps. Default: '.png'.
        **kwargs: Arguments of :class:`mmseg.datasets.BaseSegDataset`
            (``reduce_zero_label`` must stay False: 0 is ``sky``).
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'sign_symbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        # the colours of the SegNet authors' CamVid tutorial
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                 [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                 [64, 0, 128], [64, 64, 0], [0, 128, 192]])

    def __init__(self,
                 img_suffix='.png',
                 seg_map_suffix='.png',
                 reduce_zero_label=False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError(
                'CamVidDataset: reduce_zero_label must be False: label 0 is '
                'the class "sky" and void is label 11, mapped to 255')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        """mmseg's class remapping for a subset of ``classes``, with void
        (11) always mapped to the ignore index 255."""
        label_map = super().get_label_map(new_classes) or {}
        label_map[VOID] = IGNORE_INDEX
        return label_map

    def load_data_list(self) -> List[dict]:
        """The image/label pairs of the split, after checking the folders
        and that every image has its label map."""
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', '')
        for kind, folder in (('images', img_dir), ('label maps', ann_dir)):
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'CamVidDataset: the folder of {kind} {folder!r} does '
                    f'not exist (data_root={self.data_root!r}, data_prefix='
                    f'{self.data_prefix!r}). data_root must hold the SegNet '
                    'layout (train/, trainannot/, val/, valannot/, test/, '
                    'testannot/): link a copy there (e.g. from the '
                    'repository root `ln -s "$(realpath '
                    '../shared/data/camvid)" data/camvid`) or convert the '
                    'original release with '
                    'tools/dataset_converters/camvid.py')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(
                f'CamVidDataset: no {self.img_suffix!r} images in {img_dir}')
        missing = [(d['img_path'], d['seg_map_path']) for d in data_list
                   if not osp.isfile(d['seg_map_path'])]
        if missing:
            shown = '\n  '.join(f'{img} -> {ann}' for img, ann in missing[:10])
            raise FileNotFoundError(
                f'CamVidDataset: {len(missing)} of {len(data_list)} images '
                f'in {img_dir} have no label map in {ann_dir} (same file '
                f'name, suffix {self.seg_map_suffix!r}):\n  {shown}')
        return data_list
