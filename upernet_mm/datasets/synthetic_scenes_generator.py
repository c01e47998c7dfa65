"""Procedural street and room scenes with exact pixel labels.

``render_scene`` draws one RGB image and its label map (class indices of
``synthetic_scenes_classes.CLASSES``) with numpy and OpenCV only. Scenes are
built so that context and layout matter, not colour alone:

* street scenes: sky, a row of buildings with windows on the horizon, grass
  and a road in perspective, then trees, cars (with wheels) and persons
  painted from far to near, so nearer objects occlude farther ones and their
  size grows with the depth of their foot point;
* room scenes: wall with paintings, floor, tables and persons.

Windows and paintings come from the same panel generator (told apart only by
facade or wall around them), trees and grass share their greens, tables and
floors often share their wood. Every instance gets its own colour, textures
carry noise at several scales, and the whole image gets a colour cast, noise
and sometimes blur.

``render_layered_scene`` draws the same scenes with more levels for Unified
Perceptual Parsing: besides the object map, a part map (index of the part
within its object's group of ``unified_parsing_classes.PART_CLASSES``, 255
on objects without parts) and a material map (indices of
``MATERIAL_CLASSES``), all painted by the same calls as the objects, so that
occlusion is the same on every level. It also knows the scene categories of
``SCENE_CLASSES``: ``street`` and ``living_room`` are exactly the ``street``
and ``room`` scenes of ``render_scene`` (same random draws, same pixels);
the others change what is in the scene (no road in a park, no buildings and
more cars on a highway, more tables in a dining room, more paintings and no
table in an art gallery). The extra maps never draw random numbers, so
``render_scene`` gives the same images as before they existed.

``far_context=True`` (the ablation scale) removes the local cues that tell
the street's building and window from the room's wall and painting: facades
and walls are drawn from one surface distribution, paintings hang in regular
grids as often as scattered, and half of the buildings reach the top edge
(no sky above them). What decides those four classes is then the kind of
scene, seen only in sky, grass, road, trees and cars or in floor and
tables, usually far from the pixel. Scenes without it are unchanged.

Sizes are given for 128x128 images and scale with ``size``. For a fixed
numpy and OpenCV version the output depends only on the random generator
passed in.
"""
import cv2
import numpy as np

from .synthetic_scenes_classes import CLASS_INDEX
from .unified_parsing_classes import IGNORE_INDEX, MATERIAL_INDEX, PART_INDEX

SKY = CLASS_INDEX['sky']
BUILDING = CLASS_INDEX['building']
WINDOW = CLASS_INDEX['window']
TREE = CLASS_INDEX['tree']
GRASS = CLASS_INDEX['grass']
ROAD = CLASS_INDEX['road']
CAR = CLASS_INDEX['car']
WHEEL = CLASS_INDEX['wheel']
PERSON = CLASS_INDEX['person']
WALL = CLASS_INDEX['wall']
FLOOR = CLASS_INDEX['floor']
PAINTING = CLASS_INDEX['painting']
TABLE = CLASS_INDEX['table']

SCENE_KINDS = ('street', 'room')
MIN_SIZE = 64

M = MATERIAL_INDEX
P = PART_INDEX
NO_PART = IGNORE_INDEX

# What each scene category changes in the street or room generator; an
# empty dict is the SyntheticScenes scene itself. Ranges are numpy's
# ``integers(low, high)`` (high excluded).
SCENE_LAYOUTS = {
    'street': ('street', dict()),
    'park': ('street', dict(road=False, trees=(3, 7), cars=(0, 1),
                            persons=(1, 5))),
    'highway': ('street', dict(buildings=False, road_width=(0.9, 1.25),
                               trees=(0, 3), cars=(3, 7), persons=(0, 1))),
    'living_room': ('room', dict()),
    'dining_room': ('room', dict(tables=(3, 5), paintings=(0, 2))),
    'art_gallery': ('room', dict(tables=(0, 1), paintings=(4, 7),
                                 persons=(1, 4))),
}
_STREET = dict(buildings=True, road=True, road_width=(0.5, 0.95),
               trees=(1, 4), cars=(1, 4), persons=(0, 4), far_context=False)
_ROOM = dict(paintings=(1, 4), tables=(1, 3), persons=(1, 3),
             far_context=False)
_FACADE_COLOURS = [(165, 85, 65), (205, 185, 150), (145, 145, 150),
                   (220, 210, 190), (105, 80, 65), (180, 160, 130)]


class _Canvas:
    """RGB float image and label map that shapes are painted onto."""

    def __init__(self, size):
        self.size = size
        self.img = np.zeros((size, size, 3), np.float32)
        self.lbl = np.zeros((size, size), np.uint8)
        self.part = np.full((size, size), IGNORE_INDEX, np.uint8)
        self.material = np.full((size, size), IGNORE_INDEX, np.uint8)

    def paint(self, x0, y0, mask, texture, label, part=NO_PART,
              material=IGNORE_INDEX):
        """Paint ``texture`` where ``mask`` is set, clipped to the image.

        Args:
            x0 (int): Column of the top-left corner of ``mask``.
            y0 (int): Row of the top-left corner of ``mask``.
            mask (np.ndarray): (h, w) bool or uint8 mask.
            texture (np.ndarray): (h, w, 3) RGB values.
            label (int): Class index written under the mask.
            part (int | np.ndarray): Part index (or (h, w) map of them)
                written under the mask; 255 for objects without parts.
            material (int | np.ndarray): Material index or (h, w) map.
        """
        h, w = mask.shape
        ax0, ay0 = max(x0, 0), max(y0, 0)
        ax1, ay1 = min(x0 + w, self.size), min(y0 + h, self.size)
        if ax0 >= ax1 or ay0 >= ay1:
            return
        window = (slice(ay0 - y0, ay1 - y0), slice(ax0 - x0, ax1 - x0))
        m = mask[window].astype(bool)
        t = texture[window]
        self.img[ay0:ay1, ax0:ax1][m] = t[m]
        self.lbl[ay0:ay1, ax0:ax1][m] = label
        for layer, value in ((self.part, part), (self.material, material)):
            if np.ndim(value):
                layer[ay0:ay1, ax0:ax1][m] = value[window][m]
            else:
                layer[ay0:ay1, ax0:ax1][m] = value


# ----------------------------------------------------------------- textures


def _noise(rng, h, w, cell_y, cell_x=None):
    """Smooth noise of shape (h, w), roughly unit variance, with features of
    ``cell_y`` x ``cell_x`` pixels (1 or less: independent pixels)."""
    cell_x = cell_y if cell_x is None else cell_x
    gh = h if cell_y <= 1 else max(2, int(round(h / cell_y)) + 1)
    gw = w if cell_x <= 1 else max(2, int(round(w / cell_x)) + 1)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    if (gh, gw) == (h, w):
        return grid
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _shade(rgb, lum):
    """(h, w, 3) texture: colour ``rgb`` times the luminance map ``lum``."""
    return lum[..., None] * np.asarray(rgb, np.float32)


def _jitter(rng, rgb, amount):
    return np.clip(np.asarray(rgb, np.float32) +
                   rng.uniform(-amount, amount, 3), 0, 255)


def _choice(rng, options):
    return options[int(rng.integers(len(options)))]


def _sky_texture(rng, h, w):
    if rng.random() < 0.7:  # clear
        top = rng.uniform((30, 90, 170), (90, 150, 230))
        bottom = rng.uniform((150, 185, 215), (200, 220, 245))
    else:  # overcast
        top = np.full(3, rng.uniform(130, 170)) + rng.uniform(-5, 10, 3)
        bottom = np.full(3, rng.uniform(185, 215)) + rng.uniform(-5, 10, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = top * (1 - t) + bottom * t
    clouds = (_noise(rng, h, w, max(h / 3, 4), max(w / 4, 4)) +
              0.5 * _noise(rng, h, w, max(h / 8, 2)))
    cover = np.clip((clouds - rng.uniform(0.3, 1.5)) * 1.5, 0, 1)
    cover = cover[..., None] * rng.uniform(0.5, 0.9)
    return sky * (1 - cover) + rng.uniform(215, 245) * cover


def _facade_texture(rng, h, w, rgb, s):
    lum = (1 + 0.06 * _noise(rng, h, w, 6 * s) +
           0.05 * _noise(rng, h, w, 1))
    yy, xx = np.mgrid[:h, :w]
    style = rng.integers(3)
    material = (M['brick'], M['concrete'], M['painted'])[style]
    if style == 0:  # bricks
        row = max(2, int(round(rng.uniform(2.5, 4) * s)))
        brick = 2 * row + 1
        shift = (yy // row) % 2 * (brick // 2)
        mortar = (yy % row == 0) | ((xx + shift) % brick == 0)
        lum = lum * np.where(mortar, rng.uniform(0.75, 0.88), 1.0)
    elif style == 1:  # concrete panels
        py, px = (int(round(rng.uniform(8, 16) * s)) for _ in range(2))
        seams = (yy % py == 0) | (xx % px == 0)
        lum = lum * np.where(seams, 0.85, 1.0) + 0.05 * _noise(
            rng, h, w, 3 * s)
    else:  # horizontal cladding
        period = max(2, int(round(rng.uniform(2, 4) * s)))
        lum = lum * (1 - 0.08 * (yy % period == 0))
    return _shade(rgb, lum.astype(np.float32)), material


def _panel_style(rng):
    """Frame and glass of a panel; one style for all windows of a building."""
    return dict(
        kind=int(rng.integers(3)),
        frame=_choice(rng, [(235, 235, 230), (40, 38, 35), (110, 75, 45),
                            (150, 150, 150)]),
        glass=rng.uniform((20, 40, 60), (110, 130, 160)))


def _panel_texture(rng, h, w, style):
    """Framed panel: a window on a facade or a painting on a wall (the same
    generator and style distribution for both)."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    diag = (yy / max(h - 1, 1) + xx / max(w - 1, 1)) / 2
    if style['kind'] == 1:  # picture: coloured shapes on a background
        out = np.empty((h, w, 3), np.float32)
        out[:] = rng.uniform(40, 230, 3)
        for _ in range(int(rng.integers(2, 5))):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry, rx = rng.uniform(0.15, 0.5) * h, rng.uniform(0.15, 0.5) * w
            inside = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
            out[inside] = rng.uniform(20, 250, 3)
    else:  # glass with a bright diagonal reflection
        glass = _jitter(rng, style['glass'], 15)
        out = _shade(glass, 0.8 + 0.6 * diag)
        streak = np.abs(diag - rng.uniform(0.2, 0.8)) < 0.08
        out[streak] = np.minimum(out[streak] + 60, 255)
    frame = np.asarray(style['frame'], np.float32)
    f = max(1, int(round(min(h, w) / 8)))
    out[:f], out[-f:], out[:, :f], out[:, -f:] = frame, frame, frame, frame
    if style['kind'] == 2 and min(h, w) >= 8:  # mullions
        out[h // 2 - f // 2:h // 2 - f // 2 + f] = frame
        out[:, w // 2 - f // 2:w // 2 - f // 2 + f] = frame
    return out


def _panel_layers(h, w, style, inner):
    """Part and material maps of a panel of ``_panel_texture``: the frame
    (part 1) and the glass or picture (part 2, ``inner``)."""
    frame = np.zeros((h, w), bool)
    f = max(1, int(round(min(h, w) / 8)))
    frame[:f], frame[-f:], frame[:, :f], frame[:, -f:] = True, True, True, True
    if style['kind'] == 2 and min(h, w) >= 8:
        frame[h // 2 - f // 2:h // 2 - f // 2 + f] = True
        frame[:, w // 2 - f // 2:w // 2 - f // 2 + f] = True
    part = np.where(frame, 1, inner).astype(np.uint8)
    frame_material = M['wood'] if tuple(style['frame']) == (110, 75, 45) \
        else M['painted']
    pane = M['canvas'] if style['kind'] == 1 else M['glass']
    material = np.where(frame, frame_material, pane).astype(np.uint8)
    return part, material


def _green(rng):
    return rng.uniform((40, 100, 20), (110, 175, 70))


def _grass_texture(rng, h, w, s):
    lum = (1 + 0.15 * _noise(rng, h, w, 3 * s, 1) +
           0.08 * _noise(rng, h, w, 12 * s) + 0.05 * _noise(rng, h, w, 1))
    return _shade(_green(rng), lum)


def _foliage_texture(rng, h, w, s):
    lum = (1 + 0.16 * _noise(rng, h, w, 2.5 * s) +
           0.1 * _noise(rng, h, w, 6 * s))
    lum = lum - 0.25 * (_noise(rng, h, w, 3 * s) > 0.9)
    return _shade(_green(rng), lum)


def _road_texture(rng, h, w, s):
    grey = rng.uniform(65, 120)
    rgb = np.full(3, grey) + rng.uniform(-6, 6, 3)
    lum = (1 + 0.08 * _noise(rng, h, w, 1) +
           0.06 * _noise(rng, h, w, 10 * s))
    return _shade(rgb, lum)


def _wood_texture(rng, h, w, s, rgb=None):
    if rgb is None:
        rgb = rng.uniform((110, 65, 30), (200, 145, 90))
    lum = (1 + 0.1 * _noise(rng, h, w, 1.5 * s, 14 * s) +
           0.04 * _noise(rng, h, w, 1))
    plank = max(2, int(round(rng.uniform(3, 7) * s)))
    rows = np.arange(h) // plank
    shades = 1 + rng.uniform(-0.08, 0.08, rows[-1] + 1)
    lum = lum * shades[rows][:, None]
    lum[np.arange(h) % plank == 0] *= 0.75
    return _shade(rgb, lum.astype(np.float32))


def _floor_texture(rng, h, w, s):
    kind = rng.random()
    if kind < 0.5:
        return _wood_texture(rng, h, w, s), M['wood']
    if kind < 0.8:  # tiles, plain or checkered
        tile = max(4, int(round(rng.uniform(8, 16) * s)))
        yy, xx = np.mgrid[:h, :w]
        a = rng.uniform(90, 230, 3)
        b = a if rng.random() < 0.5 else rng.uniform(90, 230, 3)
        out = np.where(((yy // tile + xx // tile) % 2 == 0)[..., None], a, b)
        grout = (yy % tile == 0) | (xx % tile == 0)
        out = out * (1 + 0.04 * _noise(rng, h, w, 1))[..., None]
        out[grout] *= 0.7
        return out.astype(np.float32), M['tile']
    lum = 1 + 0.1 * _noise(rng, h, w, 1) + 0.05 * _noise(rng, h, w, 5 * s)
    return _shade(rng.uniform(50, 200, 3), lum), M['carpet']


def _wall_texture(rng, h, w, s):
    lum = 1 + 0.03 * _noise(rng, h, w, 8 * s) + 0.02 * _noise(rng, h, w, 1)
    material = M['painted']
    if rng.random() < 0.4:  # striped wallpaper
        material = M['wallpaper']
        period = max(3, int(round(rng.uniform(4, 10) * s)))
        lum = lum * (1 - 0.07 * (np.arange(w) % period < period // 2))
    light = np.linspace(rng.uniform(0.85, 1.1), rng.uniform(0.85, 1.1), w)
    lum = lum * light[None, :].astype(np.float32)
    return _shade(rng.uniform(150, 235, 3), lum), material


def _surface_texture(rng, h, w, s):
    """Facade or room wall with far context: one distribution for both."""
    if rng.random() < 0.5:
        rgb = _jitter(rng, _choice(rng, _FACADE_COLOURS), 20)
        return _facade_texture(rng, h, w, rgb, s)
    return _wall_texture(rng, h, w, s)


def _solid(rng, h, w, rgb, grain=0.05):
    return _shade(rgb, 1 + grain * _noise(rng, h, w, 1))


# ------------------------------------------------------------------ objects


def _box_mask(h, w):
    return np.ones((h, w), np.uint8)


def _building(c, rng, x0, x1, top, base, s, far=False):
    w, h = x1 - x0, base - top
    if w < 4 or h < 4:
        return
    rgb = None if far else _jitter(rng, _choice(rng, _FACADE_COLOURS), 20)
    roof = int(rng.uniform(0.1, 0.3) * w) if rng.random() < 0.3 else 0
    mask = np.zeros((h + roof, w), np.uint8)
    mask[roof:] = 1
    if roof:
        cv2.fillPoly(mask, [np.array([[0, roof], [w - 1, roof],
                                      [w // 2, 0]], np.int32)], 1)
    if far:
        facade, material = _surface_texture(rng, h + roof, w, s)
    else:
        facade, material = _facade_texture(rng, h + roof, w, rgb, s)
    part = np.full(mask.shape, P['building']['wall'], np.uint8)
    part[:roof] = P['building']['roof']
    c.paint(x0, top - roof, mask, facade, BUILDING, part, material)
    _panel_grid(c, rng, x0, w, top, h, s, WINDOW, P['window']['pane'])


def _panel_grid(c, rng, x0, w, top, h, s, label, inner):
    """Panels of one style in a regular grid over a w x h surface: windows
    on a facade, or paintings on a wall with far context."""
    ww = max(5, int(round(rng.uniform(6, 14) * s)))
    wh = max(5, int(round(ww * rng.uniform(0.9, 1.6))))
    sx = int(round(ww * rng.uniform(1.3, 1.9)))
    sy = int(round(wh * rng.uniform(1.25, 1.7)))
    cols = (w - ww // 2) // sx
    rows = (h - wh // 2) // sy
    if cols < 1 or rows < 1:
        return
    left = x0 + (w - (cols - 1) * sx - ww) // 2
    style = _panel_style(rng)
    part, material = _panel_layers(wh, ww, style, inner)
    for r in range(rows):
        for k in range(cols):
            c.paint(left + k * sx, top + int(0.4 * sy) + r * sy,
                    _box_mask(wh, ww), _panel_texture(rng, wh, ww, style),
                    label, part, material)


def _tree(c, rng, cx, base, height, s):
    trunk_w = max(2, int(round(height * rng.uniform(0.06, 0.1))))
    trunk_h = int(height * 0.45)
    bark = rng.uniform((70, 45, 25), (115, 80, 50))
    lum = 1 + 0.12 * _noise(rng, trunk_h, trunk_w, 3 * s, 1)
    c.paint(cx - trunk_w // 2, base - trunk_h, _box_mask(trunk_h, trunk_w),
            _shade(bark, lum), TREE, P['tree']['trunk'], M['wood'])
    size = int(height * 0.75)
    mask = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        r = int(size * rng.uniform(0.18, 0.3))
        cv2.circle(mask, (int(size * rng.uniform(0.3, 0.7)),
                          int(size * rng.uniform(0.3, 0.65))), r, 1, -1)
    c.paint(cx - size // 2, base - trunk_h - int(size * 0.75), mask,
            _foliage_texture(rng, size, size, s), TREE, P['tree']['crown'],
            M['foliage'])


def _car(c, rng, cx, base, length, s):
    L = int(length)
    r = max(3, int(round(0.11 * L)))
    body_h = max(4, int(0.26 * L))
    cabin_h = max(3, int(0.2 * L))
    h = body_h + cabin_h + r
    mask = np.zeros((h, L), np.uint8)
    body_top = cabin_h
    cv2.rectangle(mask, (0, body_top), (L - 1, body_top + body_h - 1), 1, -1)
    front = rng.random() < 0.5
    a, b = (0.22, 0.72) if front else (0.28, 0.78)
    cabin = np.array([[a * L, body_top], [b * L, body_top],
                      [(b - 0.1) * L, 0], [(a + 0.12) * L, 0]], np.int32)
    cv2.fillPoly(mask, [cabin], 1)
    paint = _choice(rng, [rng.uniform(0, 255, 3), rng.uniform(0, 255, 3),
                          np.full(3, rng.uniform(160, 235)),
                          np.full(3, rng.uniform(45, 80))])
    shade = np.linspace(1.2, 0.8, h, dtype=np.float32)[:, None]
    tex = _shade(paint, shade + 0.04 * _noise(rng, h, L, 1))
    # cabin windows and lights belong to the car
    glass = np.zeros((h, L), np.uint8)
    inset = max(1, L // 30)
    cv2.fillPoly(glass, [cabin + np.array([[inset, -inset], [-inset, -inset],
                                           [-inset, inset], [inset, inset]])],
                 1)
    tex[glass.astype(bool)] = rng.uniform((25, 35, 45), (70, 85, 100))
    light_x = L - max(2, L // 14) if front else 0
    light = (slice(body_top + 1, body_top + max(2, body_h // 3)),
             slice(light_x, light_x + max(2, L // 14)))
    tex[light] = (250, 240, 180) if front else (200, 30, 30)
    # parts: the door is the body below the cabin, between its pillars
    car = P['car']
    part = np.full((h, L), car['body'], np.uint8)
    part[body_top:body_top + body_h,
         int(a * L) + inset:int(b * L) - inset] = car['door']
    part[glass.astype(bool)] = car['window']
    part[light] = car['light']
    material = np.full((h, L), M['metal'], np.uint8)
    material[glass.astype(bool)] = M['glass']
    material[light] = M['glass']
    x0, y0 = int(cx - L / 2), int(base - h)
    c.paint(x0, y0, mask, tex, CAR, part, material)
    tyre = rng.uniform(20, 45)
    hub = rng.uniform(110, 190)
    d = 2 * r + 1
    hub_mask = np.zeros((d, d), np.uint8)
    cv2.circle(hub_mask, (r, r), max(1, int(r * 0.45)), 1, -1)
    wheel_part = np.where(hub_mask.astype(bool), P['wheel']['hub'],
                          P['wheel']['tyre']).astype(np.uint8)
    wheel_material = np.where(hub_mask.astype(bool), M['metal'],
                              M['rubber']).astype(np.uint8)
    for wx in (0.2 * L, 0.8 * L):
        wheel = np.zeros((d, d), np.uint8)
        cv2.circle(wheel, (r, r), r, 1, -1)
        wt = np.full((d, d, 3), tyre, np.float32)
        cv2.circle(wt, (r, r), max(1, int(r * 0.45)), (hub, hub, hub), -1)
        c.paint(int(x0 + wx - r), int(base - d), wheel, wt, WHEEL,
                wheel_part, wheel_material)


def _person(c, rng, cx, base, height, s):
    H = int(height)
    W = max(5, int(0.4 * H))
    mask = np.zeros((H, W), np.uint8)
    tex = np.empty((H, W, 3), np.float32)
    skin = _jitter(rng, _choice(rng, [(235, 195, 165), (195, 145, 105),
                                      (140, 95, 65), (95, 65, 45)]), 10)
    shirt, legs = rng.uniform(20, 240, 3), rng.uniform(15, 140, 3)
    hr = max(2, int(0.09 * H))
    mid = W // 2
    torso_top, hip = 2 * hr + 1, int(0.55 * H)
    tex[:] = legs
    tex[:hip] = shirt
    parts = P['person']
    part = np.full((H, W), parts['other'], np.uint8)
    # legs
    lw = max(1, int(0.11 * H))
    gap = max(1, int(0.03 * H))
    mask[hip:, mid - gap - lw:mid - gap] = 1
    mask[hip:, mid + gap:mid + gap + lw] = 1
    part[hip:] = parts['legs']
    # torso and arms
    tw = max(3, int(0.28 * H))
    torso = (slice(torso_top, hip + 1), slice(mid - tw // 2,
                                              mid + (tw + 1) // 2))
    mask[torso] = 1
    part[torso] = parts['torso']
    aw = max(1, int(0.06 * H))
    arm_end = int(0.52 * H)
    for arm in ((slice(torso_top + 1, arm_end),
                 slice(mid - tw // 2 - aw, mid - tw // 2)),
                (slice(torso_top + 1, arm_end),
                 slice(mid + (tw + 1) // 2, mid + (tw + 1) // 2 + aw))):
        mask[arm] = 1
        part[arm] = parts['arms']
    # head
    head = np.zeros((H, W), np.uint8)
    cv2.circle(head, (mid, hr), hr, 1, -1)
    mask[head.astype(bool)] = 1
    part[head.astype(bool)] = parts['head']
    material = np.full((H, W), M['fabric'], np.uint8)
    tex[:torso_top] = skin
    material[:torso_top] = M['skin']
    tex[arm_end - max(1, hr // 2):arm_end] = skin  # hands
    material[arm_end - max(1, hr // 2):arm_end] = M['skin']
    tex[:max(1, hr // 2)] = rng.uniform(10, 120, 3)  # hair
    material[:max(1, hr // 2)] = M['hair']
    tex = tex * (1 + 0.05 * _noise(rng, H, W, 1))[..., None]
    c.paint(int(cx - W / 2), int(base - H), mask, tex, PERSON, part,
            material)


# ------------------------------------------------------------------- scenes


def _street(rng, size, layout=None):
    lay = dict(_STREET, **(layout or {}))
    s = size / 128
    c = _Canvas(size)
    hy = int(round(rng.uniform(0.4, 0.6) * size))
    c.paint(0, 0, _box_mask(hy, size), _sky_texture(rng, hy, size), SKY,
            material=M['sky'])
    if lay['buildings']:
        x = int(rng.uniform(-0.2, 0.05) * size)
        while x < size:
            bw = int(rng.uniform(0.18, 0.45) * size)
            top = int(rng.uniform(0.06 * size, hy - 0.14 * size))
            if lay['far_context'] and rng.random() < 0.5:
                top = 0  # reaches the top edge: no sky above it
            _building(c, rng, x, x + bw, top, hy, s, lay['far_context'])
            x += bw + int(rng.uniform(-0.05, 0.15) * size)
    gh = size - hy
    c.paint(0, hy, _box_mask(gh, size), _grass_texture(rng, gh, size, s),
            GRASS, material=M['foliage'])
    if lay['road']:
        road_edges = _road(c, rng, size, hy, lay['road_width'], s)
    else:
        def road_edges(y):  # no road: trees on both halves
            return size / 2, size / 2

    objects = []
    for _ in range(int(rng.integers(*lay['trees']))):
        y = hy + int(rng.uniform(0.03, 0.3) * gh)
        left, right = road_edges(y)
        room_left, room_right = left > 4, right < size - 4
        if room_left and (not room_right or rng.random() < 0.5):
            x = rng.uniform(-0.05 * size, left)
        else:
            x = rng.uniform(right, 1.05 * size)
        d = (y - hy) / gh
        objects.append((y, _tree, x, size * (0.35 + 0.5 * d)))
    for _ in range(int(rng.integers(*lay['cars']))):
        y = hy + int(rng.uniform(0.12, 1.05) * gh)
        left, right = road_edges(min(y, size))
        d = (y - hy) / gh
        objects.append((y, _car, rng.uniform(left, right),
                        size * (0.22 + 0.42 * d) * rng.uniform(0.9, 1.1)))
    for _ in range(int(rng.integers(*lay['persons']))):
        y = hy + int(rng.uniform(0.08, 1.05) * gh)
        d = (y - hy) / gh
        objects.append((y, _person, rng.uniform(0.03, 0.97) * size,
                        size * (0.16 + 0.4 * d) * rng.uniform(0.9, 1.1)))
    for y, draw, x, extent in sorted(objects, key=lambda o: o[0]):
        draw(c, rng, int(x), y, extent, s)
    return c


def _road(c, rng, size, hy, width, s):
    """Paint the road in perspective, vanishing at the horizon ``hy``, and
    return the function giving its edges at a row."""
    gh = size - hy
    vx, tw = rng.uniform(0.3, 0.7) * size, rng.uniform(0.04, 0.15) * size
    bx, bw = rng.uniform(0.3, 0.7) * size, rng.uniform(*width) * size

    def road_edges(y):
        t = (y - hy) / gh
        cx, half = vx + t * (bx - vx), (tw + t * (bw - tw)) / 2
        return cx - half, cx + half

    road = np.zeros((gh, size), np.uint8)
    cv2.fillPoly(road, [np.array([[vx - tw / 2, 0], [vx + tw / 2, 0],
                                  [bx + bw / 2, gh], [bx - bw / 2, gh]],
                                 np.int32)], 1)
    tex = _road_texture(rng, gh, size, s)
    lane = np.zeros((gh, size), np.uint8)
    if rng.random() < 0.7:
        colour = _choice(rng, [(235, 235, 235), (230, 200, 60)])
        t = 0.05
        while t < 1:
            t1 = min(1.0, t + 0.06 + 0.12 * t)
            p0 = (int(vx + t * (bx - vx)), int(t * gh))
            p1 = (int(vx + t1 * (bx - vx)), int(t1 * gh))
            cv2.line(lane, p0, p1, 1, max(1, int((1 + 2 * t) * s)))
            t = t1 + 0.05 + 0.1 * t
        tex[lane.astype(bool)] = colour
    material = np.where(lane.astype(bool), M['painted'],
                        M['asphalt']).astype(np.uint8)
    c.paint(0, hy, road, tex, ROAD, material=material)
    return road_edges


def _table(c, rng, cx, base, width, s, floor_wood):
    W = int(width)
    leg_h = int(W * rng.uniform(0.35, 0.55))
    slab = max(3, int(W * 0.07))
    top_depth = max(2, int(W * rng.uniform(0.06, 0.15)))
    H = top_depth + slab + leg_h
    mask = np.zeros((H, W), np.uint8)
    inset = int(W * 0.08)
    cv2.fillPoly(mask, [np.array([[0, top_depth], [W - 1, top_depth],
                                  [W - 1 - inset, 0], [inset, 0]],
                                 np.int32)], 1)
    mask[top_depth:top_depth + slab] = 1
    lw = max(2, int(W * 0.06))
    for lx in (1, W - 1 - lw, int(W * 0.2), int(W * 0.8) - lw):
        mask[top_depth + slab:, lx:lx + lw] = 1
        if rng.random() < 0.5:
            break  # only two legs visible
    material = M['wood']
    if floor_wood is not None and rng.random() < 0.6:
        tex = _wood_texture(rng, H, W, s, _jitter(rng, floor_wood, 15))
    elif rng.random() < 0.5:
        tex = _wood_texture(rng, H, W, s)
    else:
        tex = _solid(rng, H, W, rng.uniform(30, 240, 3))
        material = M['plastic']
    tex[:top_depth] *= 1.15  # lit top surface
    part = np.full((H, W), P['table']['legs'], np.uint8)
    part[:top_depth + slab] = P['table']['top']
    c.paint(int(cx - W / 2), int(base - H), mask, tex, TABLE, part, material)


def _room(rng, size, layout=None):
    lay = dict(_ROOM, **(layout or {}))
    s = size / 128
    c = _Canvas(size)
    fy = int(round(rng.uniform(0.5, 0.72) * size))
    far = lay['far_context']
    wall, material = (_surface_texture if far else _wall_texture)(rng, fy,
                                                                  size, s)
    c.paint(0, 0, _box_mask(fy, size), wall, WALL, material=material)
    skirt = max(1, int(round(2 * s)))
    skirt_rgb = _choice(rng, [(235, 235, 230), (100, 70, 45)])
    c.paint(0, fy - skirt, _box_mask(skirt, size),
            _solid(rng, skirt, size, skirt_rgb), WALL,
            material=M['painted'] if skirt_rgb[0] > 200 else M['wood'])
    gh = size - fy
    if rng.random() < 0.5:  # wooden floor: tables may share its wood
        floor_wood = rng.uniform((110, 65, 30), (200, 145, 90))
        tex = _wood_texture(rng, gh, size, s, floor_wood)
        material = M['wood']
    else:
        floor_wood = None
        tex, material = _floor_texture(rng, gh, size, s)
    c.paint(0, fy, _box_mask(gh, size), tex, FLOOR, material=material)
    placed = []
    if far and rng.random() < 0.5:  # paintings in a grid, as windows are
        _panel_grid(c, rng, 0, size, 0, fy - skirt, s, PAINTING,
                    P['painting']['picture'])
        placed.append((0, 0, size, fy))
    for _ in range(0 if placed else int(rng.integers(*lay['paintings']))):
        for _attempt in range(10):
            pw = int(rng.uniform(0.1, 0.32) * size)
            ph = int(rng.uniform(0.1, 0.3) * size)
            px = int(rng.uniform(0, size - pw))
            py = int(rng.uniform(0.04 * size, max(0.05 * size,
                                                  fy - ph - 0.05 * size)))
            if all(px + pw < x0 or x1 < px or py + ph < y0 or y1 < py
                   for x0, y0, x1, y1 in placed):
                placed.append((px, py, px + pw, py + ph))
                style = _panel_style(rng)
                part, material = _panel_layers(ph, pw, style,
                                               P['painting']['picture'])
                c.paint(px, py, _box_mask(ph, pw),
                        _panel_texture(rng, ph, pw, style), PAINTING, part,
                        material)
                break
    objects = []
    for _ in range(int(rng.integers(*lay['tables']))):
        y = fy + int(rng.uniform(0.15, 0.95) * gh)
        d = (y - fy) / gh
        objects.append((y, 'table', rng.uniform(0.1, 0.9) * size,
                        size * (0.3 + 0.3 * d) * rng.uniform(0.85, 1.15)))
    for _ in range(int(rng.integers(*lay['persons']))):
        y = fy + int(rng.uniform(0.1, 1.05) * gh)
        d = (y - fy) / gh
        objects.append((y, 'person', rng.uniform(0.05, 0.95) * size,
                        size * (0.3 + 0.35 * d) * rng.uniform(0.9, 1.1)))
    for y, kind, x, extent in sorted(objects, key=lambda o: o[0]):
        if kind == 'table':
            _table(c, rng, int(x), y, extent, s, floor_wood)
        else:
            _person(c, rng, int(x), y, extent, s)
    return c


def _finish(rng, img):
    """Colour cast, brightness, sensor noise and sometimes blur."""
    img = img * rng.uniform(0.88, 1.12, 3).astype(np.float32)
    img = img + np.float32(rng.uniform(-15, 15))
    img = img + rng.normal(0, rng.uniform(2, 6),
                           img.shape).astype(np.float32)
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render_scene(rng, kind, size=128, far_context=False):
    """Draw one scene.

    Args:
        rng (np.random.Generator): Source of all randomness of the scene.
        kind (str): ``'street'`` or ``'room'``.
        size (int): Height and width in pixels, at least 64. Default: 128.
        far_context (bool): Draw facades and walls, windows and paintings
            so that only the kind of scene tells them apart (see the module
            docstring). Default: False.

    Returns:
        tuple[np.ndarray, np.ndarray]: The (size, size, 3) uint8 RGB image
        and the (size, size) uint8 label map of class indices.
    """
    if kind not in SCENE_KINDS:
        raise ValueError(
            f'scene kind must be one of {SCENE_KINDS}, got {kind!r}')
    if int(size) != size or size < MIN_SIZE:
        raise ValueError(
            f'scene size must be an integer >= {MIN_SIZE}, got {size!r}')
    layout = dict(far_context=True) if far_context else None
    canvas = (_street if kind == 'street' else _room)(rng, int(size), layout)
    return _finish(rng, canvas.img), canvas.lbl


def render_layered_scene(rng, scene, size=128):
    """Draw one scene of a category of ``SCENE_LAYOUTS`` with its object,
    part and material maps.

    Args:
        rng (np.random.Generator): Source of all randomness of the scene.
        scene (str): A key of ``SCENE_LAYOUTS`` (the names of
            ``unified_parsing_classes.SCENE_CLASSES``).
        size (int): Height and width in pixels, at least 64. Default: 128.

    Returns:
        dict: ``img`` ((size, size, 3) uint8 RGB), ``object`` (class
        indices), ``part`` (part index within the pixel's object, 255 on
        objects without parts) and ``material`` (material indices), each
        (size, size) uint8. ``img`` and ``object`` of ``'street'`` and
        ``'living_room'`` equal ``render_scene``'s ``'street'`` and
        ``'room'`` for the same ``rng`` state.
    """
    if scene not in SCENE_LAYOUTS:
        raise ValueError(f'scene category must be one of '
                         f'{tuple(SCENE_LAYOUTS)}, got {scene!r}')
    if int(size) != size or size < MIN_SIZE:
        raise ValueError(
            f'scene size must be an integer >= {MIN_SIZE}, got {size!r}')
    kind, layout = SCENE_LAYOUTS[scene]
    canvas = (_street if kind == 'street' else _room)(rng, int(size), layout)
    return dict(img=_finish(rng, canvas.img), object=canvas.lbl,
                part=canvas.part, material=canvas.material)


def smooth_noise(rng, h, w, cell_y, cell_x=None):
    """Smooth noise of shape (h, w), roughly unit variance, with features of
    ``cell_y`` x ``cell_x`` pixels (the scenes' texture noise)."""
    return _noise(rng, h, w, cell_y, cell_x)


def finish_image(rng, img):
    """The scenes' colour cast, brightness, sensor noise and sometimes blur,
    applied to an (h, w, 3) float RGB image; returns uint8."""
    return _finish(rng, img.astype(np.float32))
