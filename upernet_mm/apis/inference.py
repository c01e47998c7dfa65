"""Building a segmentor for inference, running it on images and drawing
its predictions: thin wrappers around the test pipeline, ``test_step`` and
``SegLocalVisualizer``."""
import copy
import os.path as osp
import tempfile
import warnings
from collections import defaultdict
from pathlib import Path
from typing import List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.logits_segmentor import (LogitsSegmentor,
                                                runtime_model_cfg)
from upernet_mm.registry import DATASETS, SCOPE
from .builder import build_segmentor
from .checkpoint_source import (OPENVINO, TRANSFORMERS, checkpoint_source,
                                hf_dir_path, is_hf_dir)
from .hf_conversion import to_mm
from .unified_parsing import (LEVEL_KEYS, is_unified_parsing,
                              unified_dataset_meta)

ImageType = Union[str, Path, np.ndarray]


def _default_palette(num_classes: int) -> List[List[int]]:
    # the same seeded colours mmseg's BaseSegDataset gives classes without
    # a palette
    state = np.random.get_state()
    np.random.seed(42)
    palette = np.random.randint(0, 255, size=(num_classes, 3)).tolist()
    np.random.set_state(state)
    return palette


def config_dataset_metainfo(cfg: Config) -> dict:
    """``METAINFO`` of the config's test (else val, else train) dataset
    class updated by the dataset's ``metainfo`` field, without reading its
    files; empty if no dataset of the config names classes."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = cfg.get(key, {}).get('dataset')
        if not dataset or 'type' not in dataset:
            continue
        try:
            dataset_cls = DATASETS.get(dataset['type'])
        except Exception:  # noqa: BLE001  (a type from a missing package)
            dataset_cls = None
        if dataset_cls is None:
            continue
        meta = dict(getattr(dataset_cls, 'METAINFO', {}))
        meta.update(dataset.get('metainfo') or {})
        if meta.get('classes'):
            return meta
    return {}


def dataset_meta_from_config(cfg: Config, num_classes: int) -> dict:
    """Classes and palette of the config's test (else val, else train)
    dataset, without reading its files; numbered classes with mmseg's
    seeded palette when the config names none.

    Args:
        cfg (Config): A complete config.
        num_classes (int): Classes the model predicts.

    Returns:
        dict: ``classes`` and ``palette``.
    """
    meta = config_dataset_metainfo(cfg)
    classes = meta.get('classes')
    if classes:
        palette = meta.get('palette') or _default_palette(len(classes))
        return dict(classes=tuple(classes), palette=list(palette))
    warnings.warn('No class names in the checkpoint or the config: naming '
                  f'the {num_classes} classes by their index')
    return dict(
        classes=tuple(str(i) for i in range(num_classes)),
        palette=_default_palette(num_classes))


def _load_config(config: Union[str, Path, Config],
                 cfg_options: Optional[dict]) -> Config:
    cfg = config if isinstance(config, Config) else Config.fromfile(
        str(config))
    cfg = cfg.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = False,
               deploy: Optional[str] = None):
    """Build a segmentor from a config and load a checkpoint, for inference:
    the one way upernet_mm's apis and tools do it.

    Like mmseg's ``init_model`` (the backbone's ``init_cfg`` and the model's
    ``pretrained`` are dropped: the checkpoint holds the weights), and it
    also accepts transformers UperNet directories (converted on the fly),
    checkpoints without ``meta`` (classes and palette then come from the
    config's dataset), and turns SyncBN into BN off CUDA. Checkpoints are
    loaded with upernet_mm's weights-only loaders.

    Args:
        config (str | Path | Config): Config file, Config, or a transformers
            UperNet directory (its config is generated and, when
            ``checkpoint`` is None or the same directory, its weights are
            loaded).
        checkpoint (str, optional): ``.pth`` file, transformers directory,
            ``hf://DIR``, or an OpenVINO artefact directory (see
            :func:`upernet_mm.deploy.openvino.export.export_openvino`; the
            model is then an ``OpenVINOSegmentor`` running it, on the CPU).
            None keeps the initial weights. Default: None.
        device (str): Device to run on. Default: 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.
        strict (bool): Whether every key of the model and of the checkpoint
            must match (else mismatches are logged). Default: False.
        deploy (str, optional): Inference form, as ``--deploy`` in the
            tools: ``'fp32'`` or ``'bf16'`` puts a PyTorch model in deploy
            form (:func:`upernet_mm.deploy.deploy_segmentor`); with an
            OpenVINO artefact it must be the artefact's precision
            (``'fp32'``, ``'bf16'`` or ``'int8'``, which only exists as an
            artefact). None: the checkpoint as it is. Default: None.

    Returns:
        nn.Module: The segmentor in eval mode, with ``cfg`` and
        ``dataset_meta`` (``classes``, ``palette``; for a unified parsing
        model also the class lists and palettes of parts, materials, scenes
        and textures, see :func:`unified_dataset_meta`).
    """
    install_checkpoint_loaders()
    source = checkpoint_source(checkpoint, deploy)
    if not isinstance(config, Config) and is_hf_dir(config):
        hf_dir = hf_dir_path(config)
        if source is not None and (source.kind != TRANSFORMERS or osp.realpath(
                source.path) != osp.realpath(hf_dir)):
            raise ValueError(
                f'config is the transformers directory {hf_dir}, so the '
                f'checkpoint must be that directory or None, got '
                f'{checkpoint!r}')
        with tempfile.TemporaryDirectory(prefix='upernet_mm_hf_') as tmp:
            config, weights, _ = to_mm(hf_dir, tmp)
            return _init_pytorch_model(
                _load_config(config, cfg_options), weights, device, strict,
                deploy)
    cfg = _load_config(config, cfg_options)
    if source is not None and source.kind == OPENVINO:
        return _init_openvino_model(cfg, source.path, deploy, device)
    weights = None if source is None else source.load_from
    return _init_pytorch_model(cfg, weights, device, strict, deploy)


def _init_openvino_model(cfg: Config, artefact: str, deploy: Optional[str],
                         device: str):
    """The ``OpenVINOSegmentor`` of an artefact directory, with the classes
    and palette of the config's dataset."""
    # a local import: the module imports openvino, an optional dependency
    # that only this kind of checkpoint needs
    from upernet_mm.deploy.openvino.segmentor import openvino_model_cfg
    model = build_segmentor(
        openvino_model_cfg(cfg.model, artefact, deploy),
        cfg.get('default_scope', SCOPE))
    model.cfg = cfg
    model.dataset_meta = dataset_meta_from_config(
        cfg, model.decode_head.num_classes)
    return model.to(device).eval()


def _init_pytorch_model(cfg: Config, weights: Optional[str], device: str,
                        strict: bool, deploy: Optional[str]):
    """The config's model with ``weights`` loaded (a file, URL or
    ``hf://DIR``; None: the initial weights), its classes and palette from
    the checkpoint's meta, else from the config's dataset."""
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pretrained = None
    model_cfg.train_cfg = None
    if 'init_cfg' in (model_cfg.get('backbone') or {}):
        model_cfg.backbone.init_cfg = None  # the checkpoint has them
    model = build_segmentor(model_cfg, cfg.get('default_scope', SCOPE))
    model.cfg = cfg
    meta = {}
    if weights is not None:
        loaded = load_checkpoint(
            model, weights, map_location='cpu', strict=strict)
        meta = loaded.get('meta') or {}
    dataset_meta = meta.get('dataset_meta') or {}
    if dataset_meta.get('classes') and dataset_meta.get('palette'):
        model.dataset_meta = dict(
            classes=tuple(dataset_meta['classes']),
            palette=list(dataset_meta['palette']))
    else:
        model.dataset_meta = dataset_meta_from_config(
            cfg, model.decode_head.num_classes)
    if is_unified_parsing(model):
        # names and palettes of parts, materials, scenes and textures
        levels = dataset_meta if any(
            k in dataset_meta for k in LEVEL_KEYS) else \
            config_dataset_metainfo(cfg)
        model.dataset_meta = unified_dataset_meta(model, levels)
    if not str(device).startswith('cuda'):
        model = revert_sync_batchnorm(model)
    model = model.to(device).eval()
    if deploy is not None:
        deploy_segmentor(model, precision=deploy)
    return model


def init_logits_model(config: Union[str, Path, Config],
                      runtime,
                      cfg_options: Optional[dict] = None) -> LogitsSegmentor:
    """A segmentor of ``config`` whose network is ``runtime``, any callable
    from (N, 3, H, W) float32 images (0-255, the pipeline's channel order)
    to logits (N, num_classes, H, W), e.g. an onnxruntime session wrapped in
    a function or :func:`upernet_mm.deploy.openvino.runtime.load_openvino`'s
    result; mmseg's inference (``test_step``, whole and sliding-window,
    postprocessing) runs around it. For an OpenVINO artefact directory use
    :func:`init_model` with the directory as the checkpoint.

    Returns:
        LogitsSegmentor: In eval mode, with ``cfg`` and ``dataset_meta``
        (from the config's dataset).
    """
    cfg = _load_config(config, cfg_options)
    model = build_segmentor(
        runtime_model_cfg(cfg.model, 'upernet_mm.LogitsSegmentor'),
        cfg.get('default_scope', SCOPE)).set_runtime(runtime)
    model.cfg = cfg
    model.dataset_meta = dataset_meta_from_config(
        cfg, model.decode_head.num_classes)
    return model.eval()


def build_test_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for images given as arrays: annotation
    loading dropped, ``LoadImageFromFile`` replaced by
    ``LoadImageFromNDArray``.

    Args:
        cfg (Config): Uses ``test_pipeline``, else the pipeline of
            ``test_dataloader.dataset``.
    """
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                      {}).get('pipeline')
    if not pipeline:
        raise ValueError('the config has neither test_pipeline nor '
                         'test_dataloader.dataset.pipeline')
    steps = []
    for step in pipeline:
        step = dict(step)
        if step['type'] in ('LoadAnnotations', 'LoadDepthAnnotation'):
            continue
        if step['type'] == 'LoadImageFromFile':
            step = dict(type='LoadImageFromNDArray')
        steps.append(step)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'upernet_mm')):
        return Compose(steps)


def _load(img: ImageType) -> np.ndarray:
    if isinstance(img, np.ndarray):
        return img
    array = mmcv.imread(str(img))
    if array is None:
        raise OSError(f'cannot read image {img}')
    return array


def inference_model(
    model,
    imgs: Union[ImageType, Sequence[ImageType]],
    pipeline: Optional[Compose] = None
) -> Union[SegDataSample, List[SegDataSample]]:
    """Predict the segmentation of one image or a list of images.

    A list runs as one batch per distinct image size (mmseg's data
    preprocessor stacks only equal sizes); results keep the input order and
    are at the size of the input image.

    Args:
        model (nn.Module): A segmentor from :func:`init_model`.
        imgs (str | Path | np.ndarray | list): Image file(s) or BGR
            array(s) as read by ``mmcv.imread``.
        pipeline (Compose, optional): A pipeline from
            :func:`build_test_pipeline`, to avoid rebuilding it per call.

    Returns:
        SegDataSample | list[SegDataSample]: With ``pred_sem_seg`` (class
        indices) and ``seg_logits``.
    """
    is_list = isinstance(imgs, (list, tuple))
    items = list(imgs) if is_list else [imgs]
    if pipeline is None:
        pipeline = build_test_pipeline(model.cfg)
    groups = defaultdict(list)
    for index, img in enumerate(items):
        data = pipeline(dict(img=_load(img)))
        key = (tuple(data['inputs'].shape),
               tuple(data['data_samples'].ori_shape))
        groups[key].append((index, data))
    results = [None] * len(items)
    with torch.no_grad():
        for group in groups.values():
            batch = dict(
                inputs=[data['inputs'] for _, data in group],
                data_samples=[data['data_samples'] for _, data in group])
            for (index, _), result in zip(group, model.test_step(batch)):
                results[index] = result
    return results if is_list else results[0]


def show_result(model,
                img: ImageType,
                result: SegDataSample,
                opacity: float = 0.5,
                with_labels: bool = False,
                out_file: Optional[str] = None) -> np.ndarray:
    """Draw a prediction over its image with the model's palette
    (mmseg's ``SegLocalVisualizer``).

    Args:
        model (nn.Module): A segmentor with ``dataset_meta``.
        img (str | Path | np.ndarray): The image file or BGR array.
        result (SegDataSample): Its prediction.
        opacity (float): Weight of the class colours, in (0, 1].
            Default: 0.5.
        with_labels (bool): Write class names on the segments (slow on
            large images). Default: False.
        out_file (str, optional): Where to save the drawing.

    Returns:
        np.ndarray: The drawing, RGB.
    """
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    image = mmcv.bgr2rgb(_load(img))
    if result.pred_sem_seg.shape != image.shape[:2]:
        raise ValueError(
            f'the prediction is {tuple(result.pred_sem_seg.shape)} but the '
            f'image is {image.shape[:2]}')
    visualizer = SegLocalVisualizer(
        name='upernet_mm.show_result', alpha=opacity)
    visualizer.dataset_meta = dict(
        classes=model.dataset_meta['classes'],
        palette=model.dataset_meta['palette'])
    visualizer.add_datasample(
        'result',
        image,
        result,
        draw_gt=False,
        draw_pred=True,
        with_labels=with_labels)
    drawn = visualizer.get_image()
    if out_file is not None:
        mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
    return drawn
