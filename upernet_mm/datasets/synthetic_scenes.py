"""SyntheticScenesDataset: procedural street and room scenes, generated on
first use, so training needs no download."""
from mmseg.datasets import BaseSegDataset

from upernet_mm.registry import DATASETS
from .generated_folder import GeneratedOnFirstUse
from .synthetic_scenes_classes import METAINFO
from .synthetic_scenes_folder import (IMG_SUFFIX, SEG_MAP_SUFFIX,
                                      check_generator_cfg,
                                      ensure_synthetic_scenes)


@DATASETS.register_module()
class SyntheticScenesDataset(GeneratedOnFirstUse, BaseSegDataset):
    """SyntheticScenes in the ADE20K layout (``images/{training,validation}``
    with ``.jpg`` images, ``annotations/{training,validation}`` with ``.png``
    label maps).

    The 13 classes are listed in ``METAINFO`` (from
    ``synthetic_scenes_classes``). Every pixel has a class and class 0
    (``sky``) is a real class, so ``reduce_zero_label`` is False; 255 only
    appears as padding added by the pipeline and is ignored.

    With ``generate_if_missing=True`` the whole folder (both splits) is
    generated into ``data_root`` when the dataset is fully initialised and
    ``data_root`` is missing or empty; an existing folder is never written
    over, only checked, and a clear error names what is missing in an
    incomplete one. Concurrent first use (distributed training) is safe.

    Args:
        img_suffix (str): Suffix of images. Default: '.jpg'.
        seg_map_suffix (str): Suffix of label maps. Default: '.png'.
        reduce_zero_label (bool): Whether to mark label 0 as ignored. Keep
            False: label 0 is ``sky``. Default: False.
        generate_if_missing (bool): Generate the data when ``data_root`` is
            missing or empty, and check an existing one. False behaves as
            ``BaseSegDataset``. Default: True.
        generator_cfg (dict, optional): Generation settings ``seed``,
            ``num_train``, ``num_val``, ``size``; the defaults are 0, 400,
            100, 128. Only used to generate; an existing folder made with
            other settings is used as it is, with a warning. Default: None.
        **kwargs: Arguments of :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = METAINFO
    generated_name = 'SyntheticScenes'
    ensure_folder = staticmethod(ensure_synthetic_scenes)

    def __init__(self,
                 img_suffix=IMG_SUFFIX,
                 seg_map_suffix=SEG_MAP_SUFFIX,
                 reduce_zero_label=False,
                 generate_if_missing=True,
                 generator_cfg=None,
                 **kwargs) -> None:
        self.generate_if_missing = generate_if_missing
        self.generator_cfg = check_generator_cfg(generator_cfg)
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
