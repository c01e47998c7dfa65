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
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise DemoInputError(
            f'{name} is not an image the demo can read ({formats}): '
            f'{error}') from None
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


class DemoApp:
    """A model behind the demo page.

    Args:
        model (nn.Module): A segmentor from :func:`upernet_mm.apis.init_model`
            (with ``cfg`` and ``dataset_meta``).
        title (str): Shown on the page (e.g. the config name).
        examples (list[tuple[str, np.ndarray]]): ``(name, RGB array)``
            offered as examples.
    """

    def __init__(self, model, title: str = 'upernet_mm',
                 examples: Optional[list] = None):
        self.model = model
        self.title = title
        self.pipeline = build_test_pipeline(model.cfg)
        self.examples = list(examples or [])
        self._example_png = {}
        self._lock = threading.Lock()  # one forward at a time
        meta = model.dataset_meta
        self.classes = tuple(meta['classes'])
        self.palette = [list(map(int, c)) for c in meta['palette']]
        self.num_classes = model.decode_head.num_classes

    def info(self) -> dict:
        """What the page needs before the first image."""
        return dict(
            title=self.title,
            device=str(next(self.model.parameters()).device),
            levels=[
                dict(name='object', classes=list(self.classes),
                     palette=self.palette)
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
            of the image as segmented), ``levels`` (per pixel task: name,
            ``labels`` from :func:`encode_labels`, ``legend``), ``scores``
            (image-level tasks' top-5; empty for a single-task model) and
            ``seconds`` (inference time).

        Raises:
            DemoInputError: If ``data`` is not an image the demo accepts.
        """
        bgr = decode_image(data, name)
        start = time.perf_counter()
        with self._lock, torch.no_grad():
            result = inference_model(self.model, bgr, self.pipeline)
        seconds = time.perf_counter() - start
        mask = result.pred_sem_seg.data[0].cpu().numpy()
        return dict(
            name=name,
            width=int(bgr.shape[1]),
            height=int(bgr.shape[0]),
            image=encode_png(bgr[..., ::-1]),
            levels=[
                dict(
                    name='object',
                    labels=encode_labels(mask, self.num_classes),
                    legend=legend(mask, self.classes, self.palette))
            ],
            scores=[],
            seconds=round(seconds, 3))
