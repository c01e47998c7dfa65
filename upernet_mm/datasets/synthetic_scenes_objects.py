"""The canvas the procedural scenes are painted on, and the painters of
their objects: buildings with windows, panels in a grid, the road, trees,
cars with wheels, persons and tables.

A painter draws one object onto a :class:`Canvas` at once on every level:
the image, the class map, the part map (index of the part within its
object's group of ``unified_parsing_classes.PART_CLASSES``, 255 on objects
without parts) and the material map, so that occlusion is the same on
every level. Painters draw from the random generator they are given in a
fixed order (the scenes' pixels depend on it); the part and material maps
never draw random numbers. Sizes are given for 128x128 images and scale
with ``scale`` (image size / 128).
"""
import cv2
import numpy as np

from .synthetic_scenes_classes import CLASS_INDEX
from .synthetic_scenes_textures import (FACADE_COLOURS, WOODEN_FRAME, choose,
                                        facade_texture, foliage_texture,
                                        jitter, panel_frame, panel_style,
                                        panel_texture, road_texture, shade,
                                        smooth_noise, solid, surface_texture,
                                        wood_texture)
from .unified_parsing_classes import IGNORE_INDEX, MATERIAL_INDEX, PART_INDEX


class Canvas:
    """RGB float image, class map, part map and material map that shapes
    are painted onto."""

    def __init__(self, size):
        self.size = size
        self.img = np.zeros((size, size, 3), np.float32)
        self.lbl = np.zeros((size, size), np.uint8)
        self.part = np.full((size, size), IGNORE_INDEX, np.uint8)
        self.material = np.full((size, size), IGNORE_INDEX, np.uint8)

    def paint(self,
              x0,
              y0,
              mask,
              texture,
              label,
              part=IGNORE_INDEX,
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
        height, width = mask.shape
        left, top = max(x0, 0), max(y0, 0)
        right = min(x0 + width, self.size)
        bottom = min(y0 + height, self.size)
        if left >= right or top >= bottom:
            return
        window = (slice(top - y0, bottom - y0), slice(left - x0, right - x0))
        inside = mask[window].astype(bool)
        target = (slice(top, bottom), slice(left, right))
        self.img[target][inside] = texture[window][inside]
        self.lbl[target][inside] = label
        for layer, value in ((self.part, part), (self.material, material)):
            if np.ndim(value):
                layer[target][inside] = value[window][inside]
            else:
                layer[target][inside] = value


def box_mask(height, width):
    return np.ones((height, width), np.uint8)


def panel_layers(height, width, style, inner):
    """Part and material maps of a panel of ``panel_texture``: the frame
    (part 1) and the glass or picture (part 2, ``inner``)."""
    frame = panel_frame(height, width, style)
    part = np.where(frame, 1, inner).astype(np.uint8)
    frame_material = (
        MATERIAL_INDEX['wood'] if tuple(style['frame']) == WOODEN_FRAME else
        MATERIAL_INDEX['painted'])
    pane = (
        MATERIAL_INDEX['canvas']
        if style['kind'] == 1 else MATERIAL_INDEX['glass'])
    material = np.where(frame, frame_material, pane).astype(np.uint8)
    return part, material


def paint_building(canvas, rng, x0, x1, top, base, scale, far=False):
    """A building from column ``x0`` to ``x1`` and row ``top`` to ``base``,
    sometimes with a gabled roof, with a grid of windows; ``far``: its
    facade drawn as :func:`surface_texture` (far context)."""
    width, height = x1 - x0, base - top
    if width < 4 or height < 4:
        return
    rgb = None if far else jitter(rng, choose(rng, FACADE_COLOURS), 20)
    roof = int(rng.uniform(0.1, 0.3) * width) if rng.random() < 0.3 else 0
    mask = np.zeros((height + roof, width), np.uint8)
    mask[roof:] = 1
    if roof:
        cv2.fillPoly(mask, [
            np.array([[0, roof], [width - 1, roof], [width // 2, 0]], np.int32)
        ], 1)
    if far:
        facade, material = surface_texture(rng, height + roof, width, scale)
    else:
        facade, material = facade_texture(rng, height + roof, width, rgb,
                                          scale)
    part = np.full(mask.shape, PART_INDEX['building']['wall'], np.uint8)
    part[:roof] = PART_INDEX['building']['roof']
    canvas.paint(x0, top - roof, mask, facade, CLASS_INDEX['building'], part,
                 material)
    paint_panel_grid(canvas, rng, x0, width, top, height, scale,
                     CLASS_INDEX['window'], PART_INDEX['window']['pane'])


def paint_panel_grid(canvas, rng, x0, width, top, height, scale, label, inner):
    """Panels of one style in a regular grid over a width x height surface:
    windows on a facade, or paintings on a wall with far context."""
    panel_w = max(5, int(round(rng.uniform(6, 14) * scale)))
    panel_h = max(5, int(round(panel_w * rng.uniform(0.9, 1.6))))
    step_x = int(round(panel_w * rng.uniform(1.3, 1.9)))
    step_y = int(round(panel_h * rng.uniform(1.25, 1.7)))
    cols = (width - panel_w // 2) // step_x
    rows = (height - panel_h // 2) // step_y
    if cols < 1 or rows < 1:
        return
    left = x0 + (width - (cols - 1) * step_x - panel_w) // 2
    style = panel_style(rng)
    part, material = panel_layers(panel_h, panel_w, style, inner)
    for row in range(rows):
        for col in range(cols):
            canvas.paint(left + col * step_x,
                         top + int(0.4 * step_y) + row * step_y,
                         box_mask(panel_h, panel_w),
                         panel_texture(rng, panel_h, panel_w,
                                       style), label, part, material)


def paint_road(canvas, rng, size, horizon, width, scale):
    """Paint the road in perspective, vanishing at the row ``horizon``,
    ``width`` (a range) times the image wide at the bottom, and return the
    function giving its edges at a row."""
    ground_h = size - horizon
    far_x = rng.uniform(0.3, 0.7) * size
    far_w = rng.uniform(0.04, 0.15) * size
    near_x = rng.uniform(0.3, 0.7) * size
    near_w = rng.uniform(*width) * size

    def road_edges(y):
        t = (y - horizon) / ground_h
        centre = far_x + t * (near_x - far_x)
        half = (far_w + t * (near_w - far_w)) / 2
        return centre - half, centre + half

    road = np.zeros((ground_h, size), np.uint8)
    cv2.fillPoly(road, [
        np.array([[far_x - far_w / 2, 0], [far_x + far_w / 2, 0],
                  [near_x + near_w / 2, ground_h],
                  [near_x - near_w / 2, ground_h]], np.int32)
    ], 1)
    tex = road_texture(rng, ground_h, size, scale)
    lane = np.zeros((ground_h, size), np.uint8)
    if rng.random() < 0.7:
        colour = choose(rng, [(235, 235, 235), (230, 200, 60)])
        t = 0.05
        while t < 1:
            t1 = min(1.0, t + 0.06 + 0.12 * t)
            p0 = (int(far_x + t * (near_x - far_x)), int(t * ground_h))
            p1 = (int(far_x + t1 * (near_x - far_x)), int(t1 * ground_h))
            cv2.line(lane, p0, p1, 1, max(1, int((1 + 2 * t) * scale)))
            t = t1 + 0.05 + 0.1 * t
        tex[lane.astype(bool)] = colour
    material = np.where(
        lane.astype(bool), MATERIAL_INDEX['painted'],
        MATERIAL_INDEX['asphalt']).astype(np.uint8)
    canvas.paint(0, horizon, road, tex, CLASS_INDEX['road'], material=material)
    return road_edges


def paint_tree(canvas, rng, cx, base, height, scale):
    """A trunk and a crown of overlapping discs, standing at (cx, base)."""
    trunk_w = max(2, int(round(height * rng.uniform(0.06, 0.1))))
    trunk_h = int(height * 0.45)
    bark = rng.uniform((70, 45, 25), (115, 80, 50))
    lum = 1 + 0.12 * smooth_noise(rng, trunk_h, trunk_w, 3 * scale, 1)
    canvas.paint(cx - trunk_w // 2, base - trunk_h, box_mask(trunk_h, trunk_w),
                 shade(bark, lum), CLASS_INDEX['tree'],
                 PART_INDEX['tree']['trunk'], MATERIAL_INDEX['wood'])
    crown = int(height * 0.75)
    mask = np.zeros((crown, crown), np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        radius = int(crown * rng.uniform(0.18, 0.3))
        cv2.circle(mask, (int(crown * rng.uniform(0.3, 0.7)),
                          int(crown * rng.uniform(0.3, 0.65))), radius, 1, -1)
    canvas.paint(cx - crown // 2, base - trunk_h - int(crown * 0.75), mask,
                 foliage_texture(rng, crown, crown,
                                 scale), CLASS_INDEX['tree'],
                 PART_INDEX['tree']['crown'], MATERIAL_INDEX['foliage'])


def paint_car(canvas, rng, cx, base, length, scale):
    """A car seen from the side, facing left or right, with its two
    wheels, standing at (cx, base)."""
    length = int(length)
    radius = max(3, int(round(0.11 * length)))
    body_h = max(4, int(0.26 * length))
    cabin_h = max(3, int(0.2 * length))
    height = body_h + cabin_h + radius
    mask = np.zeros((height, length), np.uint8)
    body_top = cabin_h
    cv2.rectangle(mask, (0, body_top), (length - 1, body_top + body_h - 1), 1,
                  -1)
    front = rng.random() < 0.5
    a, b = (0.22, 0.72) if front else (0.28, 0.78)  # the cabin's pillars
    cabin = np.array([[a * length, body_top], [b * length, body_top],
                      [(b - 0.1) * length, 0], [(a + 0.12) * length, 0]],
                     np.int32)
    cv2.fillPoly(mask, [cabin], 1)
    paint = choose(rng, [
        rng.uniform(0, 255, 3),
        rng.uniform(0, 255, 3),
        np.full(3, rng.uniform(160, 235)),
        np.full(3, rng.uniform(45, 80))
    ])
    lighting = np.linspace(1.2, 0.8, height, dtype=np.float32)[:, None]
    tex = shade(paint, lighting + 0.04 * smooth_noise(rng, height, length, 1))
    # cabin windows and lights belong to the car
    glass = np.zeros((height, length), np.uint8)
    inset = max(1, length // 30)
    cv2.fillPoly(glass, [
        cabin + np.array([[inset, -inset], [-inset, -inset], [-inset, inset],
                          [inset, inset]])
    ], 1)
    tex[glass.astype(bool)] = rng.uniform((25, 35, 45), (70, 85, 100))
    light_x = length - max(2, length // 14) if front else 0
    light = (slice(body_top + 1, body_top + max(2, body_h // 3)),
             slice(light_x, light_x + max(2, length // 14)))
    tex[light] = (250, 240, 180) if front else (200, 30, 30)
    # parts: the door is the body below the cabin, between its pillars
    car = PART_INDEX['car']
    part = np.full((height, length), car['body'], np.uint8)
    part[body_top:body_top + body_h,
         int(a * length) + inset:int(b * length) - inset] = car['door']
    part[glass.astype(bool)] = car['window']
    part[light] = car['light']
    material = np.full((height, length), MATERIAL_INDEX['metal'], np.uint8)
    material[glass.astype(bool)] = MATERIAL_INDEX['glass']
    material[light] = MATERIAL_INDEX['glass']
    x0, y0 = int(cx - length / 2), int(base - height)
    canvas.paint(x0, y0, mask, tex, CLASS_INDEX['car'], part, material)
    tyre = rng.uniform(20, 45)
    hub = rng.uniform(110, 190)
    diameter = 2 * radius + 1
    hub_radius = max(1, int(radius * 0.45))
    hub_mask = np.zeros((diameter, diameter), np.uint8)
    cv2.circle(hub_mask, (radius, radius), hub_radius, 1, -1)
    wheel_part = np.where(
        hub_mask.astype(bool), PART_INDEX['wheel']['hub'],
        PART_INDEX['wheel']['tyre']).astype(np.uint8)
    wheel_material = np.where(
        hub_mask.astype(bool), MATERIAL_INDEX['metal'],
        MATERIAL_INDEX['rubber']).astype(np.uint8)
    for wheel_x in (0.2 * length, 0.8 * length):
        wheel = np.zeros((diameter, diameter), np.uint8)
        cv2.circle(wheel, (radius, radius), radius, 1, -1)
        wheel_tex = np.full((diameter, diameter, 3), tyre, np.float32)
        cv2.circle(wheel_tex, (radius, radius), hub_radius, (hub, hub, hub),
                   -1)
        canvas.paint(
            int(x0 + wheel_x - radius), int(base - diameter), wheel, wheel_tex,
            CLASS_INDEX['wheel'], wheel_part, wheel_material)


def paint_person(canvas, rng, cx, base, height, scale):
    """A standing person (head, torso, arms, legs), feet at (cx, base)."""
    height = int(height)
    width = max(5, int(0.4 * height))
    mask = np.zeros((height, width), np.uint8)
    tex = np.empty((height, width, 3), np.float32)
    skin = jitter(
        rng,
        choose(rng, [(235, 195, 165), (195, 145, 105), (140, 95, 65),
                     (95, 65, 45)]), 10)
    shirt, legs = rng.uniform(20, 240, 3), rng.uniform(15, 140, 3)
    head_r = max(2, int(0.09 * height))
    mid = width // 2
    torso_top, hip = 2 * head_r + 1, int(0.55 * height)
    tex[:] = legs
    tex[:hip] = shirt
    parts = PART_INDEX['person']
    part = np.full((height, width), parts['other'], np.uint8)
    # legs
    leg_w = max(1, int(0.11 * height))
    gap = max(1, int(0.03 * height))
    mask[hip:, mid - gap - leg_w:mid - gap] = 1
    mask[hip:, mid + gap:mid + gap + leg_w] = 1
    part[hip:] = parts['legs']
    # torso and arms
    torso_w = max(3, int(0.28 * height))
    torso_left, torso_right = mid - torso_w // 2, mid + (torso_w + 1) // 2
    torso = (slice(torso_top, hip + 1), slice(torso_left, torso_right))
    mask[torso] = 1
    part[torso] = parts['torso']
    arm_w = max(1, int(0.06 * height))
    arm_end = int(0.52 * height)
    for arm in ((slice(torso_top + 1,
                       arm_end), slice(torso_left - arm_w, torso_left)),
                (slice(torso_top + 1,
                       arm_end), slice(torso_right, torso_right + arm_w))):
        mask[arm] = 1
        part[arm] = parts['arms']
    # head
    head = np.zeros((height, width), np.uint8)
    cv2.circle(head, (mid, head_r), head_r, 1, -1)
    mask[head.astype(bool)] = 1
    part[head.astype(bool)] = parts['head']
    material = np.full((height, width), MATERIAL_INDEX['fabric'], np.uint8)
    tex[:torso_top] = skin
    material[:torso_top] = MATERIAL_INDEX['skin']
    hand = max(1, head_r // 2)
    tex[arm_end - hand:arm_end] = skin
    material[arm_end - hand:arm_end] = MATERIAL_INDEX['skin']
    tex[:hand] = rng.uniform(10, 120, 3)  # hair
    material[:hand] = MATERIAL_INDEX['hair']
    tex = tex * (1 + 0.05 * smooth_noise(rng, height, width, 1))[..., None]
    canvas.paint(
        int(cx - width / 2), int(base - height), mask, tex,
        CLASS_INDEX['person'], part, material)


def paint_table(canvas, rng, cx, base, width, scale, floor_wood):
    """A table seen slightly from above, standing at (cx, base); often of
    the floor's wood (``floor_wood``, None if the floor is not wood)."""
    width = int(width)
    leg_h = int(width * rng.uniform(0.35, 0.55))
    slab = max(3, int(width * 0.07))
    top_depth = max(2, int(width * rng.uniform(0.06, 0.15)))
    height = top_depth + slab + leg_h
    mask = np.zeros((height, width), np.uint8)
    inset = int(width * 0.08)
    cv2.fillPoly(mask, [
        np.array([[0, top_depth], [width - 1, top_depth],
                  [width - 1 - inset, 0], [inset, 0]], np.int32)
    ], 1)
    mask[top_depth:top_depth + slab] = 1
    leg_w = max(2, int(width * 0.06))
    for leg_x in (1, width - 1 - leg_w, int(width * 0.2),
                  int(width * 0.8) - leg_w):
        mask[top_depth + slab:, leg_x:leg_x + leg_w] = 1
        if rng.random() < 0.5:
            break  # only two legs visible
    material = MATERIAL_INDEX['wood']
    if floor_wood is not None and rng.random() < 0.6:
        tex = wood_texture(rng, height, width, scale,
                           jitter(rng, floor_wood, 15))
    elif rng.random() < 0.5:
        tex = wood_texture(rng, height, width, scale)
    else:
        tex = solid(rng, height, width, rng.uniform(30, 240, 3))
        material = MATERIAL_INDEX['plastic']
    tex[:top_depth] *= 1.15  # lit top surface
    part = np.full((height, width), PART_INDEX['table']['legs'], np.uint8)
    part[:top_depth + slab] = PART_INDEX['table']['top']
    canvas.paint(
        int(cx - width / 2), int(base - height), mask, tex,
        CLASS_INDEX['table'], part, material)
