"""Label maps as pictures and as numbers: class colours blended over an
image (:func:`blend_colours`) and the classes a map holds with their pixel
shares (:func:`class_fractions`), for the overlays and summaries of the
apis, the tools and the demo."""
from typing import List, Optional, Sequence

import numpy as np


def blend_colours(image: np.ndarray,
                  colours: np.ndarray,
                  opacity: float,
                  where: Optional[np.ndarray] = None) -> np.ndarray:
    """``image * (1 - opacity) + colours * opacity`` per pixel (the blend of
    mmseg's ``SegLocalVisualizer``), rounded to uint8.

    Args:
        image (np.ndarray): (H, W, 3) image, in the channel order of
            ``colours``.
        colours (np.ndarray): (H, W, 3) colour of each pixel, e.g.
            ``palette[labels]``.
        opacity (float): Weight of the colours, in [0, 1].
        where (np.ndarray, optional): (H, W) bool: the pixels to colour;
            the others keep the image's colour. Default: every pixel.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    if colours.shape != image.shape:
        raise ValueError(f'the colours are {colours.shape} but the image is '
                         f'{image.shape}')
    out = image.astype(np.float32)
    if where is None:
        out = (1 - opacity) * out + opacity * colours.astype(np.float32)
    else:
        out[where] = (1 - opacity) * out[where] + opacity * colours[where]
    return out.round().clip(0, 255).astype(np.uint8)


def class_fractions(mask: np.ndarray, names: Sequence[str]) -> List[dict]:
    """The classes present in a label map, largest share first: ``index``,
    ``name`` (the index as text where ``names`` has none) and ``fraction``
    of the pixels (6 decimals)."""
    ids, counts = np.unique(mask, return_counts=True)
    order = np.argsort(-counts, kind='stable')
    return [
        dict(
            index=int(ids[i]),
            name=names[ids[i]] if ids[i] < len(names) else str(ids[i]),
            fraction=round(float(counts[i]) / mask.size, 6)) for i in order
    ]
