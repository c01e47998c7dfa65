"""Procedural street and room scenes with exact pixel labels: the scene
layouts (what goes where, from far to near), over the textures of
``synthetic_scenes_textures`` and the object painters of
``synthetic_scenes_objects``.

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
from .synthetic_scenes_classes import CLASS_INDEX
from .synthetic_scenes_objects import (Canvas, box_mask, paint_building,
                                       paint_car, paint_panel_grid,
                                       paint_person, paint_road, paint_table,
                                       paint_tree, panel_layers)
from .synthetic_scenes_textures import (choose, finish_image, floor_texture,
                                        grass_texture, panel_style,
                                        panel_texture, sky_texture, solid,
                                        surface_texture, wall_texture,
                                        wood_colour, wood_texture)
from .unified_parsing_classes import MATERIAL_INDEX, PART_INDEX

SCENE_KINDS = ('street', 'room')
MIN_SIZE = 64

# What each scene category changes in the street or room generator; an
# empty dict is the SyntheticScenes scene itself. Ranges are numpy's
# ``integers(low, high)`` (high excluded).
SCENE_LAYOUTS = {
    'street': ('street', dict()),
    'park':
    ('street', dict(road=False, trees=(3, 7), cars=(0, 1), persons=(1, 5))),
    'highway': ('street',
                dict(
                    buildings=False,
                    road_width=(0.9, 1.25),
                    trees=(0, 3),
                    cars=(3, 7),
                    persons=(0, 1))),
    'living_room': ('room', dict()),
    'dining_room': ('room', dict(tables=(3, 5), paintings=(0, 2))),
    'art_gallery':
    ('room', dict(tables=(0, 1), paintings=(4, 7), persons=(1, 4))),
}
STREET_LAYOUT = dict(
    buildings=True,
    road=True,
    road_width=(0.5, 0.95),
    trees=(1, 4),
    cars=(1, 4),
    persons=(0, 4),
    far_context=False)
ROOM_LAYOUT = dict(
    paintings=(1, 4), tables=(1, 3), persons=(1, 3), far_context=False)


def _street(rng, size, layout=None):
    layout = dict(STREET_LAYOUT, **(layout or {}))
    scale = size / 128
    canvas = Canvas(size)
    horizon = int(round(rng.uniform(0.4, 0.6) * size))
    canvas.paint(
        0,
        0,
        box_mask(horizon, size),
        sky_texture(rng, horizon, size),
        CLASS_INDEX['sky'],
        material=MATERIAL_INDEX['sky'])
    if layout['buildings']:
        x = int(rng.uniform(-0.2, 0.05) * size)
        while x < size:
            width = int(rng.uniform(0.18, 0.45) * size)
            top = int(rng.uniform(0.06 * size, horizon - 0.14 * size))
            if layout['far_context'] and rng.random() < 0.5:
                top = 0  # reaches the top edge: no sky above it
            paint_building(canvas, rng, x, x + width, top, horizon, scale,
                           layout['far_context'])
            x += width + int(rng.uniform(-0.05, 0.15) * size)
    ground_h = size - horizon
    canvas.paint(
        0,
        horizon,
        box_mask(ground_h, size),
        grass_texture(rng, ground_h, size, scale),
        CLASS_INDEX['grass'],
        material=MATERIAL_INDEX['foliage'])
    if layout['road']:
        road_edges = paint_road(canvas, rng, size, horizon,
                                layout['road_width'], scale)
    else:

        def road_edges(y):  # no road: trees on both halves
            return size / 2, size / 2

    objects = []  # (foot row, painter, column, extent), painted far to near
    for _ in range(int(rng.integers(*layout['trees']))):
        y = horizon + int(rng.uniform(0.03, 0.3) * ground_h)
        left, right = road_edges(y)
        room_left, room_right = left > 4, right < size - 4
        if room_left and (not room_right or rng.random() < 0.5):
            x = rng.uniform(-0.05 * size, left)
        else:
            x = rng.uniform(right, 1.05 * size)
        depth = (y - horizon) / ground_h
        objects.append((y, paint_tree, x, size * (0.35 + 0.5 * depth)))
    for _ in range(int(rng.integers(*layout['cars']))):
        y = horizon + int(rng.uniform(0.12, 1.05) * ground_h)
        left, right = road_edges(min(y, size))
        depth = (y - horizon) / ground_h
        objects.append((y, paint_car, rng.uniform(left, right),
                        size * (0.22 + 0.42 * depth) * rng.uniform(0.9, 1.1)))
    for _ in range(int(rng.integers(*layout['persons']))):
        y = horizon + int(rng.uniform(0.08, 1.05) * ground_h)
        depth = (y - horizon) / ground_h
        objects.append((y, paint_person, rng.uniform(0.03, 0.97) * size,
                        size * (0.16 + 0.4 * depth) * rng.uniform(0.9, 1.1)))
    for y, paint, x, extent in sorted(objects, key=lambda o: o[0]):
        paint(canvas, rng, int(x), y, extent, scale)
    return canvas


def _room(rng, size, layout=None):
    layout = dict(ROOM_LAYOUT, **(layout or {}))
    scale = size / 128
    canvas = Canvas(size)
    floor_y = int(round(rng.uniform(0.5, 0.72) * size))
    far = layout['far_context']
    wall, material = (surface_texture if far else wall_texture)(rng, floor_y,
                                                                size, scale)
    canvas.paint(
        0,
        0,
        box_mask(floor_y, size),
        wall,
        CLASS_INDEX['wall'],
        material=material)
    skirt = max(1, int(round(2 * scale)))
    skirt_rgb = choose(rng, [(235, 235, 230), (100, 70, 45)])
    canvas.paint(
        0,
        floor_y - skirt,
        box_mask(skirt, size),
        solid(rng, skirt, size, skirt_rgb),
        CLASS_INDEX['wall'],
        material=MATERIAL_INDEX['painted']
        if skirt_rgb[0] > 200 else MATERIAL_INDEX['wood'])
    ground_h = size - floor_y
    if rng.random() < 0.5:  # wooden floor: tables may share its wood
        floor_wood = wood_colour(rng)
        tex = wood_texture(rng, ground_h, size, scale, floor_wood)
        material = MATERIAL_INDEX['wood']
    else:
        floor_wood = None
        tex, material = floor_texture(rng, ground_h, size, scale)
    canvas.paint(
        0,
        floor_y,
        box_mask(ground_h, size),
        tex,
        CLASS_INDEX['floor'],
        material=material)
    picture = PART_INDEX['painting']['picture']
    placed = []  # (x0, y0, x1, y1) of the paintings
    if far and rng.random() < 0.5:  # paintings in a grid, as windows are
        paint_panel_grid(canvas, rng, 0, size, 0, floor_y - skirt, scale,
                         CLASS_INDEX['painting'], picture)
        placed.append((0, 0, size, floor_y))
    for _ in range(0 if placed else int(rng.integers(*layout['paintings']))):
        for _attempt in range(10):
            width = int(rng.uniform(0.1, 0.32) * size)
            height = int(rng.uniform(0.1, 0.3) * size)
            x = int(rng.uniform(0, size - width))
            y = int(
                rng.uniform(0.04 * size,
                            max(0.05 * size, floor_y - height - 0.05 * size)))
            if all(x + width < x0 or x1 < x or y + height < y0 or y1 < y
                   for x0, y0, x1, y1 in placed):
                placed.append((x, y, x + width, y + height))
                style = panel_style(rng)
                part, material = panel_layers(height, width, style, picture)
                canvas.paint(x, y, box_mask(height, width),
                             panel_texture(rng, height, width, style),
                             CLASS_INDEX['painting'], part, material)
                break
    objects = []  # (foot row, kind, column, extent), painted far to near
    for _ in range(int(rng.integers(*layout['tables']))):
        y = floor_y + int(rng.uniform(0.15, 0.95) * ground_h)
        depth = (y - floor_y) / ground_h
        objects.append((y, 'table', rng.uniform(0.1, 0.9) * size,
                        size * (0.3 + 0.3 * depth) * rng.uniform(0.85, 1.15)))
    for _ in range(int(rng.integers(*layout['persons']))):
        y = floor_y + int(rng.uniform(0.1, 1.05) * ground_h)
        depth = (y - floor_y) / ground_h
        objects.append((y, 'person', rng.uniform(0.05, 0.95) * size,
                        size * (0.3 + 0.35 * depth) * rng.uniform(0.9, 1.1)))
    for y, kind, x, extent in sorted(objects, key=lambda o: o[0]):
        if kind == 'table':
            paint_table(canvas, rng, int(x), y, extent, scale, floor_wood)
        else:
            paint_person(canvas, rng, int(x), y, extent, scale)
    return canvas


def _check_size(size):
    if int(size) != size or size < MIN_SIZE:
        raise ValueError(
            f'scene size must be an integer >= {MIN_SIZE}, got {size!r}')


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
    _check_size(size)
    layout = dict(far_context=True) if far_context else None
    canvas = (_street if kind == 'street' else _room)(rng, int(size), layout)
    return finish_image(rng, canvas.img), canvas.lbl


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
    _check_size(size)
    kind, layout = SCENE_LAYOUTS[scene]
    canvas = (_street if kind == 'street' else _room)(rng, int(size), layout)
    return dict(
        img=finish_image(rng, canvas.img),
        object=canvas.lbl,
        part=canvas.part,
        material=canvas.material)
