"""Textures of the procedural scenes (``synthetic_scenes_generator``):
smooth noise at several scales, the surfaces (sky, facades, walls, floors,
grass, foliage, road, wood), the framed panels that are both windows and
paintings, and the finish of a whole image (colour cast, sensor noise,
blur).

Every function draws from the random generator it is given, in a fixed
order: the scenes' pixels depend on that order. Sizes are given for
128x128 images and scale with ``scale`` (image size / 128). Surface
textures that decide a material return ``(texture, material index)``.
"""
import cv2
import numpy as np

from .unified_parsing_classes import MATERIAL_INDEX

FACADE_COLOURS = [(165, 85, 65), (205, 185, 150), (145, 145, 150),
                  (220, 210, 190), (105, 80, 65), (180, 160, 130)]
# a panel frame of this colour is wood, any other is painted
WOODEN_FRAME = (110, 75, 45)


def smooth_noise(rng, height, width, cell_y, cell_x=None):
    """Smooth noise of shape (height, width), roughly unit variance, with
    features of ``cell_y`` x ``cell_x`` pixels (1 or less: independent
    pixels)."""
    cell_x = cell_y if cell_x is None else cell_x
    grid_h = height if cell_y <= 1 else max(2, int(round(height / cell_y)) + 1)
    grid_w = width if cell_x <= 1 else max(2, int(round(width / cell_x)) + 1)
    grid = rng.standard_normal((grid_h, grid_w)).astype(np.float32)
    if (grid_h, grid_w) == (height, width):
        return grid
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def shade(rgb, luminance):
    """(h, w, 3) texture: colour ``rgb`` times the luminance map."""
    return luminance[..., None] * np.asarray(rgb, np.float32)


def jitter(rng, rgb, amount):
    """``rgb`` with each channel moved by up to ``amount``."""
    return np.clip(
        np.asarray(rgb, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def choose(rng, options):
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def solid(rng, height, width, rgb, grain=0.05):
    """A plain colour with pixel grain."""
    return shade(rgb, 1 + grain * smooth_noise(rng, height, width, 1))


def sky_texture(rng, height, width):
    if rng.random() < 0.7:  # clear
        top = rng.uniform((30, 90, 170), (90, 150, 230))
        bottom = rng.uniform((150, 185, 215), (200, 220, 245))
    else:  # overcast
        top = np.full(3, rng.uniform(130, 170)) + rng.uniform(-5, 10, 3)
        bottom = np.full(3, rng.uniform(185, 215)) + rng.uniform(-5, 10, 3)
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = top * (1 - t) + bottom * t
    clouds = (
        smooth_noise(rng, height, width, max(height / 3, 4), max(width / 4, 4))
        + 0.5 * smooth_noise(rng, height, width, max(height / 8, 2)))
    cover = np.clip((clouds - rng.uniform(0.3, 1.5)) * 1.5, 0, 1)
    cover = cover[..., None] * rng.uniform(0.5, 0.9)
    return sky * (1 - cover) + rng.uniform(215, 245) * cover


def facade_texture(rng, height, width, rgb, scale):
    """Bricks, concrete panels or cladding in colour ``rgb``."""
    lum = (1 + 0.06 * smooth_noise(rng, height, width, 6 * scale) +
           0.05 * smooth_noise(rng, height, width, 1))
    yy, xx = np.mgrid[:height, :width]
    style = rng.integers(3)
    material = (MATERIAL_INDEX['brick'], MATERIAL_INDEX['concrete'],
                MATERIAL_INDEX['painted'])[style]
    if style == 0:  # bricks
        row = max(2, int(round(rng.uniform(2.5, 4) * scale)))
        brick = 2 * row + 1
        shift = (yy // row) % 2 * (brick // 2)
        mortar = (yy % row == 0) | ((xx + shift) % brick == 0)
        lum = lum * np.where(mortar, rng.uniform(0.75, 0.88), 1.0)
    elif style == 1:  # concrete panels
        panel_h, panel_w = (
            int(round(rng.uniform(8, 16) * scale)) for _ in range(2))
        seams = (yy % panel_h == 0) | (xx % panel_w == 0)
        lum = lum * np.where(seams, 0.85, 1.0) + 0.05 * smooth_noise(
            rng, height, width, 3 * scale)
    else:  # horizontal cladding
        period = max(2, int(round(rng.uniform(2, 4) * scale)))
        lum = lum * (1 - 0.08 * (yy % period == 0))
    return shade(rgb, lum.astype(np.float32)), material


def wall_texture(rng, height, width, scale):
    """Painted wall or striped wallpaper, lit unevenly."""
    lum = (1 + 0.03 * smooth_noise(rng, height, width, 8 * scale) +
           0.02 * smooth_noise(rng, height, width, 1))
    material = MATERIAL_INDEX['painted']
    if rng.random() < 0.4:  # striped wallpaper
        material = MATERIAL_INDEX['wallpaper']
        period = max(3, int(round(rng.uniform(4, 10) * scale)))
        lum = lum * (1 - 0.07 * (np.arange(width) % period < period // 2))
    light = np.linspace(rng.uniform(0.85, 1.1), rng.uniform(0.85, 1.1), width)
    lum = lum * light[None, :].astype(np.float32)
    return shade(rng.uniform(150, 235, 3), lum), material


def surface_texture(rng, height, width, scale):
    """Facade or room wall with far context: one distribution for both."""
    if rng.random() < 0.5:
        rgb = jitter(rng, choose(rng, FACADE_COLOURS), 20)
        return facade_texture(rng, height, width, rgb, scale)
    return wall_texture(rng, height, width, scale)


def panel_style(rng):
    """Frame and glass of a panel; one style for all windows of a building.
    ``kind`` 0 is glass, 1 a picture, 2 glass with mullions."""
    return dict(
        kind=int(rng.integers(3)),
        frame=choose(rng, [(235, 235, 230), (40, 38, 35), WOODEN_FRAME,
                           (150, 150, 150)]),
        glass=rng.uniform((20, 40, 60), (110, 130, 160)))


def panel_frame(height, width, style):
    """Where the frame (and the mullions) of a panel is: (h, w) bool."""
    frame = np.zeros((height, width), bool)
    bar = max(1, int(round(min(height, width) / 8)))
    frame[:bar], frame[-bar:], frame[:, :bar], frame[:, -bar:] = (True, ) * 4
    if style['kind'] == 2 and min(height, width) >= 8:  # mullions
        mid_y, mid_x = height // 2 - bar // 2, width // 2 - bar // 2
        frame[mid_y:mid_y + bar] = True
        frame[:, mid_x:mid_x + bar] = True
    return frame


def panel_texture(rng, height, width, style):
    """Framed panel: a window on a facade or a painting on a wall (the same
    generator and style distribution for both)."""
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    diag = (yy / max(height - 1, 1) + xx / max(width - 1, 1)) / 2
    if style['kind'] == 1:  # picture: coloured shapes on a background
        out = np.empty((height, width, 3), np.float32)
        out[:] = rng.uniform(40, 230, 3)
        for _ in range(int(rng.integers(2, 5))):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry = rng.uniform(0.15, 0.5) * height
            rx = rng.uniform(0.15, 0.5) * width
            inside = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
            out[inside] = rng.uniform(20, 250, 3)
    else:  # glass with a bright diagonal reflection
        glass = jitter(rng, style['glass'], 15)
        out = shade(glass, 0.8 + 0.6 * diag)
        streak = np.abs(diag - rng.uniform(0.2, 0.8)) < 0.08
        out[streak] = np.minimum(out[streak] + 60, 255)
    out[panel_frame(height, width,
                    style)] = np.asarray(style['frame'], np.float32)
    return out


def _green(rng):
    return rng.uniform((40, 100, 20), (110, 175, 70))


def grass_texture(rng, height, width, scale):
    lum = (1 + 0.15 * smooth_noise(rng, height, width, 3 * scale, 1) +
           0.08 * smooth_noise(rng, height, width, 12 * scale) +
           0.05 * smooth_noise(rng, height, width, 1))
    return shade(_green(rng), lum)


def foliage_texture(rng, height, width, scale):
    lum = (1 + 0.16 * smooth_noise(rng, height, width, 2.5 * scale) +
           0.1 * smooth_noise(rng, height, width, 6 * scale))
    lum = lum - 0.25 * (smooth_noise(rng, height, width, 3 * scale) > 0.9)
    return shade(_green(rng), lum)


def road_texture(rng, height, width, scale):
    grey = rng.uniform(65, 120)
    rgb = np.full(3, grey) + rng.uniform(-6, 6, 3)
    lum = (1 + 0.08 * smooth_noise(rng, height, width, 1) +
           0.06 * smooth_noise(rng, height, width, 10 * scale))
    return shade(rgb, lum)


def wood_colour(rng):
    return rng.uniform((110, 65, 30), (200, 145, 90))


def wood_texture(rng, height, width, scale, rgb=None):
    """Planks with grain, of colour ``rgb`` (default: a random wood)."""
    if rgb is None:
        rgb = wood_colour(rng)
    lum = (1 +
           0.1 * smooth_noise(rng, height, width, 1.5 * scale, 14 * scale) +
           0.04 * smooth_noise(rng, height, width, 1))
    plank = max(2, int(round(rng.uniform(3, 7) * scale)))
    rows = np.arange(height) // plank
    shades = 1 + rng.uniform(-0.08, 0.08, rows[-1] + 1)
    lum = lum * shades[rows][:, None]
    lum[np.arange(height) % plank == 0] *= 0.75
    return shade(rgb, lum.astype(np.float32))


def floor_texture(rng, height, width, scale):
    """Wood, tiles (plain or checkered) or carpet."""
    kind = rng.random()
    if kind < 0.5:
        return wood_texture(rng, height, width, scale), MATERIAL_INDEX['wood']
    if kind < 0.8:  # tiles, plain or checkered
        tile = max(4, int(round(rng.uniform(8, 16) * scale)))
        yy, xx = np.mgrid[:height, :width]
        first = rng.uniform(90, 230, 3)
        second = first if rng.random() < 0.5 else rng.uniform(90, 230, 3)
        out = np.where(((yy // tile + xx // tile) % 2 == 0)[..., None], first,
                       second)
        grout = (yy % tile == 0) | (xx % tile == 0)
        grain = 1 + 0.04 * smooth_noise(rng, height, width, 1)
        out = out * grain[..., None]
        out[grout] *= 0.7
        return out.astype(np.float32), MATERIAL_INDEX['tile']
    lum = (1 + 0.1 * smooth_noise(rng, height, width, 1) +
           0.05 * smooth_noise(rng, height, width, 5 * scale))
    return shade(rng.uniform(50, 200, 3), lum), MATERIAL_INDEX['carpet']


def finish_image(rng, img):
    """Colour cast, brightness, sensor noise and sometimes blur, applied to
    an (h, w, 3) float RGB image; returns uint8."""
    img = img.astype(np.float32)
    img = img * rng.uniform(0.88, 1.12, 3).astype(np.float32)
    img = img + np.float32(rng.uniform(-15, 15))
    img = img + rng.normal(0, rng.uniform(2, 6), img.shape).astype(np.float32)
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
