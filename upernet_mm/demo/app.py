"""What the demo page asks of a model, without HTTP: decode an uploaded
image (refusing anything else), segment it with :mod:`upernet_mm.apis`,
and describe the result for the page (the image, class indices per level,
legend with pixel shares, top-5 scores of image-level tasks).

Nothing here writes a file: uploads are decoded in memory and the examples
(SyntheticScenes validation scenes) are rendered in memory.
"""
import base64
import io
import threading
import time
import zlib
from typing import List, Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from upernet_mm.apis import build_test_pipeline, inference_model
from upernet_mm.datasets.synthetic_scenes_folder import render_split_scene

#: formats the page accepts (Pillow names); anything else is refused
IMAGE_FORMATS = ('PNG', 'JPEG', 'BMP', 'WEBP', 'TIFF', 'GIF')
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_PIXELS = 25_000_000
#: pixel levels of a multi-task (unified parsing) model: result field
PIXEL_LEVELS = (('object', 'pred_sem_seg'), ('part', 'pred_part_seg'),
                ('material', 'pred_material_seg'))
#: image-level tasks: result field
IMAGE_LEVELS = (('scene', 'pred_scene'), ('texture', 'pred_texture'))
TOP_K = 5
#: the part view's class of pixels whose object has no parts
NO_PARTS = '(object without parts)'
NO_PARTS_COLOUR = [48, 48, 48]


class DemoInputError(ValueError):
    """An upload the demo refuses; the message is shown on the page."""


def decode_image(data: bytes, name: str = 'the file') -> np.ndarray:
    """Decode an uploaded image to a BGR array (what mmcv.imread gives), in
    memory, applying its EXIF orientation as browsers do.

    Raises:
        DemoInputError: For an empty or oversized upload, a file that is not
            an image in one of :data:`IMAGE_FORMATS`, or more than
            :data:`MAX_PIXELS` pixels.
    """
    if not data:
        raise DemoInputError(f'{name} is empty')
    if len(data) > MAX_UPLOAD_BYTES:
        raise DemoInputError(
            f'{name} is {len(data) / 2**20:.1f} MB; the demo accepts images '
            f'up to {MAX_UPLOAD_BYTES // 2**20} MB')
    formats = ', '.join(IMAGE_FORMATS)
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise DemoInputError(
                    f'{name} is {width}x{height} pixels; the demo accepts '
                    f'up to {MAX_PIXELS / 1e6:.0f} megapixels')
            img = ImageOps.exif_transpose(img)
            rgb = np.asarray(img.convert('RGB'))
    except DemoInputError:
        raise
    except UnidentifiedImageError:
        raise DemoInputError(f'{name} is not an image the demo can read '
                             f'({formats})') from None
    except Image.DecompressionBombError as error:
        raise DemoInputError(f'{name} is refused: {error}') from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated, corrupt
        raise DemoInputError(
            f'{name} cannot be decoded, it is corrupt or truncated: '
            f'{error}') from None
    return np.ascontiguousarray(rgb[..., ::-1])


def encode_png(rgb: np.ndarray) -> str:
    """An RGB array as a ``data:image/png;base64`` URL."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(
        buf.getvalue()).decode('ascii')


def encode_labels(mask: np.ndarray, num_classes: int) -> dict:
    """Class indices for the page: row-major, little-endian uint8 (uint16
    above 256 classes), zlib-compressed (the browser's
    ``DecompressionStream('deflate')`` reads it), base64."""
    dtype = np.uint8 if num_classes <= 256 else np.dtype('<u2')
    raw = np.ascontiguousarray(mask.astype(dtype)).tobytes()
    return dict(
        dtype='uint8' if dtype == np.uint8 else 'uint16',
        data=base64.b64encode(zlib.compress(raw, 6)).decode('ascii'))


def legend(mask: np.ndarray, classes: Sequence[str],
           palette: Sequence[Sequence[int]]) -> List[dict]:
    """Classes present in ``mask`` with their pixel shares, largest
    first."""
    ids, counts = np.unique(mask, return_counts=True)
    order = np.argsort(-counts, kind='stable')
    out = []
    for i in order:
        index = int(ids[i])
        name = classes[index] if index < len(classes) else str(index)
        color = list(palette[index]) if index < len(palette) else [0, 0, 0]
        out.append(
            dict(
                index=index,
                name=name,
                color=[int(c) for c in color],
                share=float(counts[i]) / mask.size))
    return out


def synthetic_scenes_examples(num: int = 8,
                              seed: int = 0,
                              size: int = 128) -> List[tuple]:
    """The first ``num`` SyntheticScenes validation scenes as ``(name, RGB
    array)``, rendered in memory: with the default settings they are the
    images of ``data/synthetic_scenes/images/validation``."""
    return [(f'synthetic_scenes_val_{i:05d}',
             render_split_scene(seed, 'validation', i, size)[0])
            for i in range(num)]


def model_levels(model) -> dict:
    """Class names (and palettes) of every level the model predicts.

    A single-task segmentor has the ``object`` level only. A unified
    parsing model (a decode head with ``tasks``) also has ``part`` (one
    class per object part, named ``object: part``, plus
    :data:`NO_PARTS`), ``material``, ``scene`` and ``texture``, named by
    the model's ``dataset_meta`` as :func:`upernet_mm.apis.init_model` fills
    it (``part_classes``, ``part_palette``, ``material_classes``,
    ``material_palette``, ``scene_classes``, ``texture_classes``).

    Returns:
        dict: level name -> ``classes``, ``palette`` (pixel levels), and
        for ``part`` the ``offsets``: per object index, the index of its
        first part class, or -1.
    """
    meta = dict(model.dataset_meta)
    levels = dict(
        object=dict(
            classes=list(meta['classes']),
            palette=[[int(c) for c in colour] for colour in meta['palette']]))
    tasks = getattr(model.decode_head, 'tasks', None)
    if not tasks:
        return levels
    if 'part' in tasks:
        classes, palette, offsets = [], [], []
        part_palette = meta.get('part_palette') or {}
        for name in levels['object']['classes']:
            parts = list(meta['part_classes'].get(name, ()))
            offsets.append(len(classes) if parts else -1)
            colours = list(part_palette.get(name, ()))
            for i, part in enumerate(parts):
                classes.append(f'{name}: {part}')
                palette.append(
                    list(colours[i]) if i < len(colours) else [128, 128, 128])
        classes.append(NO_PARTS)
        palette.append(NO_PARTS_COLOUR)
        levels['part'] = dict(
            classes=classes, palette=palette, offsets=offsets)
    if 'material' in tasks:
        classes = list(meta['material_classes'])
        palette = meta.get('material_palette') or [[128, 128, 128]
                                                   ] * len(classes)
        levels['material'] = dict(
            classes=classes, palette=[list(c) for c in palette])
    for task in ('scene', 'texture'):
        if task in tasks:
            levels[task] = dict(classes=list(meta[f'{task}_classes']))
    return levels


def part_classes_map(part: np.ndarray, objects: np.ndarray,
                     offsets: Sequence[int], no_parts: int) -> np.ndarray:
    """Flatten a part prediction (the part index within the predicted
    object's group, 255 where that object has no parts) into indices of the
    part level's classes (see :func:`model_levels`); ``no_parts`` is the
    index of :data:`NO_PARTS`."""
    first = np.asarray(list(offsets), np.int64)[objects]
    out = np.full(part.shape, no_parts, np.int64)
    valid = (part != 255) & (first >= 0)
    out[valid] = first[valid] + part[valid]
    return out


class DemoApp:
    """A model behind the demo page.

    Args:
        model (nn.Module): A segmentor from :func:`upernet_mm.apis.init_model`
            (with ``cfg`` and ``dataset_meta``).
        title (str): Shown on the page (e.g. the config name).
        examples (list[tuple[str, np.ndarray]]): ``(name, RGB array)``
            offered as examples.
    """

    def __init__(self,
                 model,
                 title: str = 'upernet_mm',
                 examples: Optional[list] = None):
        self.model = model
        self.title = title
        self.pipeline = build_test_pipeline(model.cfg)
        self.examples = list(examples or [])
        self._example_png = {}
        self._lock = threading.Lock()  # one forward at a time
        self.levels = model_levels(model)
        self.classes = tuple(self.levels['object']['classes'])
        self.palette = self.levels['object']['palette']

    def info(self) -> dict:
        """What the page needs before the first image: the pixel levels
        with their classes and palettes, the image-level tasks, the
        examples."""
        return dict(
            title=self.title,
            device=str(next(self.model.parameters()).device),
            levels=[
                dict(
                    name=name,
                    classes=self.levels[name]['classes'],
                    palette=self.levels[name]['palette'])
                for name, _ in PIXEL_LEVELS if name in self.levels
            ],
            image_tasks=[
                dict(name=name, classes=self.levels[name]['classes'])
                for name, _ in IMAGE_LEVELS if name in self.levels
            ],
            examples=[
                dict(name=name, url=f'examples/{i}.png')
                for i, (name, _) in enumerate(self.examples)
            ])

    def example_png(self, index: int) -> bytes:
        """PNG bytes of example ``index``; IndexError if there is none."""
        if not 0 <= index < len(self.examples):
            raise IndexError(index)
        if index not in self._example_png:
            buf = io.BytesIO()
            Image.fromarray(self.examples[index][1]).save(buf, format='PNG')
            self._example_png[index] = buf.getvalue()
        return self._example_png[index]

    def segment(self, data: bytes, name: str = 'the file') -> dict:
        """Segment an uploaded image.

        Returns:
            dict: ``name``, ``width``, ``height``, ``image`` (PNG data URL
            of the image as segmented), ``levels`` (per pixel level:
            ``name``, ``labels`` from :func:`encode_labels`, ``legend``),
            ``scores`` (per image-level task: ``name`` and the ``top``
            classes with their scores; empty for a single-task model) and
            ``seconds`` (inference time).

        Raises:
            DemoInputError: If ``data`` is not an image the demo accepts.
        """
        bgr = decode_image(data, name)
        start = time.perf_counter()
        with self._lock, torch.no_grad():
            result = inference_model(self.model, bgr, self.pipeline)
        seconds = time.perf_counter() - start
        objects = result.pred_sem_seg.data[0].cpu().numpy()
        levels = []
        for level, field in PIXEL_LEVELS:
            if level not in self.levels or field not in result:
                continue
            mask = getattr(result, field).data[0].cpu().numpy()
            meta = self.levels[level]
            if level == 'part':
                mask = part_classes_map(mask, objects, meta['offsets'],
                                        len(meta['classes']) - 1)
            levels.append(
                dict(
                    name=level,
                    labels=encode_labels(mask, len(meta['classes'])),
                    legend=legend(mask, meta['classes'], meta['palette'])))
        scores = []
        for task, field in IMAGE_LEVELS:
            if task not in self.levels or field not in result:
                continue
            score = getattr(result, field).score.detach().float().cpu()
            classes = self.levels[task]['classes']
            values, indices = score.topk(min(TOP_K, len(score)))
            scores.append(
                dict(
                    name=task,
                    top=[
                        dict(
                            name=classes[i] if i < len(classes) else str(i),
                            score=float(v))
                        for v, i in zip(values.tolist(), indices.tolist())
                    ]))
        return dict(
            name=name,
            width=int(bgr.shape[1]),
            height=int(bgr.shape[0]),
            image=encode_png(bgr[..., ::-1]),
            levels=levels,
            scores=scores,
            seconds=round(seconds, 3))
