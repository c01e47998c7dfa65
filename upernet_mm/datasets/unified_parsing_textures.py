"""Procedural texture images, one category of ``TEXTURE_CLASSES`` each: the
image-level texture source of the embedded Unified Perceptual Parsing data
(the role DTD plays in Broden+).

Every image is a full-frame surface: a pattern at a random orientation,
scale and pair of colours, with the shading noise and the colour cast,
sensor noise and blur of the scene generator (``finish_image``), so that
the texture head cannot tell the sources apart by image statistics alone.
What tells the categories apart is the geometry of the pattern:

* ``blotchy``: large soft blobs of a second colour;
* ``chequered``: squares of two alternating colours;
* ``dotted``: round dots on a plain ground, on a jittered lattice;
* ``fibrous``: many short thin strokes, nearly parallel;
* ``grid``: thin lines in two directions;
* ``lined``: thin parallel lines, far apart;
* ``marbled``: thin wavy veins on a light ground;
* ``striped``: wide parallel bands of two colours, half and half;
* ``zigzagged``: bands that fold back and forth.

For a fixed numpy and OpenCV version the output depends only on the random
generator passed in.
"""
import cv2
import numpy as np

from .synthetic_scenes_generator import MIN_SIZE
from .synthetic_scenes_textures import finish_image, smooth_noise
from .unified_parsing_classes import TEXTURE_CLASSES


def _colours(rng):
    """Two colours that differ enough to see the pattern."""
    a = rng.uniform(20, 235, 3)
    b = rng.uniform(20, 235, 3)
    while np.abs(a - b).sum() < 150:
        b = rng.uniform(20, 235, 3)
    return a.astype(np.float32), b.astype(np.float32)


def _rotated(rng, size):
    """Coordinates (u, v) of every pixel in a frame turned by a random
    angle: patterns drawn along u have a random orientation."""
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    return u, v


def _mix(a, b, weight):
    """Blend colours ``a`` (weight 0) and ``b`` (weight 1) per pixel."""
    w = np.clip(weight, 0, 1)[..., None].astype(np.float32)
    return a * (1 - w) + b * w


def _blotchy(rng, size, s):
    a, b = _colours(rng)
    field = smooth_noise(rng, size, size, rng.uniform(14, 28) * s)
    return _mix(a, b, (field - rng.uniform(-0.3, 0.3)) * 2.5 + 0.5)


def _chequered(rng, size, s):
    a, b = _colours(rng)
    u, v = _rotated(rng, size)
    cell = rng.uniform(8, 20) * s
    parity = (np.floor(u / cell) + np.floor(v / cell)) % 2
    return _mix(a, b, parity)


def _dotted(rng, size, s):
    a, b = _colours(rng)
    u, v = _rotated(rng, size)
    period = rng.uniform(9, 18) * s
    radius = period * rng.uniform(0.18, 0.3)
    du = (u % period) - period / 2
    dv = (v % period) - period / 2
    return _mix(a, b, (radius + 0.5 - np.sqrt(du**2 + dv**2)))


def _fibrous(rng, size, s):
    a, b = _colours(rng)
    img = np.empty((size, size, 3), np.float32)
    img[:] = a
    angle = rng.uniform(0, np.pi)
    count = int(size * size / 40)
    length = rng.uniform(6, 14) * s
    for _ in range(count):
        theta = angle + rng.normal(0, 0.15)
        x, y = rng.uniform(-length, size), rng.uniform(-length, size)
        end = (int(x + length * np.cos(theta)),
               int(y + length * np.sin(theta)))
        colour = _mix(a, b, np.float32(rng.uniform(0.4, 1.0)))
        cv2.line(img, (int(x), int(y)), end, colour.tolist(), 1, cv2.LINE_AA)
    return img


def _grid(rng, size, s):
    a, b = _colours(rng)
    u, v = _rotated(rng, size)
    period = rng.uniform(8, 18) * s
    width = max(1.0, rng.uniform(1, 2) * s)
    line = np.minimum(u % period, v % period) < width
    return _mix(a, b, line)


def _lined(rng, size, s):
    a, b = _colours(rng)
    u, _ = _rotated(rng, size)
    period = rng.uniform(8, 16) * s
    width = max(1.0, rng.uniform(1, 2) * s)
    return _mix(a, b, (u % period) < width)


def _marbled(rng, size, s):
    a = rng.uniform(170, 240, 3).astype(np.float32)
    b = rng.uniform(20, 120, 3).astype(np.float32)
    u, _ = _rotated(rng, size)
    turbulence = (
        smooth_noise(rng, size, size, 24 * s) +
        0.5 * smooth_noise(rng, size, size, 8 * s))
    phase = u / (rng.uniform(14, 28) * s) + rng.uniform(1.0, 2.0) * turbulence
    vein = np.abs(np.sin(np.pi * phase))
    return _mix(a, b, 1 - vein / rng.uniform(0.12, 0.25))


def _striped(rng, size, s):
    a, b = _colours(rng)
    u, _ = _rotated(rng, size)
    period = rng.uniform(10, 24) * s
    return _mix(a, b, (u % period) < period / 2)


def _zigzagged(rng, size, s):
    a, b = _colours(rng)
    u, v = _rotated(rng, size)
    period = rng.uniform(10, 20) * s
    fold = rng.uniform(10, 24) * s
    amplitude = fold * rng.uniform(0.4, 0.8)
    tri = np.abs((v / fold) % 2 - 1)  # triangle wave in [0, 1]
    return _mix(a, b, ((u + amplitude * tri) % period) < period / 2)


# texture name: the painter of that name
_PATTERNS = {
    painter.__name__[1:]: painter
    for painter in (_blotchy, _chequered, _dotted, _fibrous, _grid, _lined,
                    _marbled, _striped, _zigzagged)
}
assert tuple(_PATTERNS) == TEXTURE_CLASSES


def render_texture(rng, texture, size=128):
    """Draw one texture image.

    Args:
        rng (np.random.Generator): Source of all randomness of the image.
        texture (str): A name of ``TEXTURE_CLASSES``.
        size (int): Height and width in pixels, at least 64. Default: 128.

    Returns:
        np.ndarray: The (size, size, 3) uint8 RGB image.
    """
    if texture not in _PATTERNS:
        raise ValueError(f'texture must be one of {TEXTURE_CLASSES}, got '
                         f'{texture!r}')
    if int(size) != size or size < MIN_SIZE:
        raise ValueError(
            f'texture size must be an integer >= {MIN_SIZE}, got {size!r}')
    size = int(size)
    s = size / 128
    img = _PATTERNS[texture](rng, size, s)
    shading = 1 + 0.05 * smooth_noise(rng, size, size, 16 * s) + \
        0.03 * smooth_noise(rng, size, size, 1)
    return finish_image(rng, img * shading[..., None])
