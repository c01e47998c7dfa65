"""Class lists of Unified Perceptual Parsing, the one place that defines them.

Pure data (no heavy imports): the model's heads, the metric, the dataset,
the data check and the documentation read these lists.

* ``OBJECT_CLASSES``: the 13 SyntheticScenes classes, in their order.
* ``PART_CLASSES``: for every object class that has parts, its part names.
  Index 0 of every tuple is ``'other'``: a pixel of that object whose part
  is not labelled (in real data, e.g. ADE20K, many object pixels have no
  part annotation); it is a class the part head is trained on. Parts lie
  inside their object's pixels. ``window`` and ``wheel`` are object classes
  of their own, so they are not parts of ``building``/``car`` pixels; the
  car's cabin windows (drawn on car pixels) are the car part ``window``.
* ``MATERIAL_CLASSES``: materials of surfaces, after OpenSurfaces' names
  where one fits.
* ``SCENE_CLASSES``: scene categories, one per image, told apart by their
  content (which objects, how many, the layout).
* ``TEXTURE_CLASSES``: image-level texture categories, after the Describable
  Textures Dataset's (DTD) names.

Label files hold indices into these tuples; 255 means "not labelled". The
image-level labels (scene, texture) are stored by name in the sources'
``labels/<split>.json``.
"""
from .synthetic_scenes_classes import CLASSES as _OBJECTS
from .synthetic_scenes_classes import PALETTE as _OBJECT_PALETTE

TASKS = ('object', 'part', 'scene', 'material', 'texture')
PIXEL_TASKS = ('object', 'part', 'material')
IMAGE_TASKS = ('scene', 'texture')
IGNORE_INDEX = 255

OBJECT_CLASSES = _OBJECTS
OBJECT_PALETTE = _OBJECT_PALETTE

PART_CLASSES = {
    'building': ('other', 'wall', 'roof'),
    'window': ('other', 'frame', 'pane'),
    'tree': ('other', 'trunk', 'crown'),
    'car': ('other', 'body', 'door', 'window', 'light'),
    'wheel': ('other', 'tyre', 'hub'),
    'person': ('other', 'head', 'torso', 'arms', 'legs'),
    'painting': ('other', 'frame', 'picture'),
    'table': ('other', 'top', 'legs'),
}

MATERIAL_CLASSES = ('sky', 'brick', 'concrete', 'painted', 'glass', 'canvas',
                    'wood', 'foliage', 'asphalt', 'metal', 'rubber', 'fabric',
                    'skin', 'hair', 'wallpaper', 'tile', 'carpet', 'plastic')

SCENE_CLASSES = ('street', 'park', 'highway', 'living_room', 'dining_room',
                 'art_gallery')

TEXTURE_CLASSES = ('blotchy', 'chequered', 'dotted', 'fibrous', 'grid',
                   'lined', 'marbled', 'striped', 'zigzagged')

# RGB
MATERIAL_PALETTE = [[135, 206, 235], [178, 34, 34], [169, 169, 169],
                    [255, 228, 181], [0, 255, 255], [255, 0,
                                                     255], [139, 69, 19],
                    [34, 139, 34], [64, 64, 64], [192, 192, 192], [20, 20, 20],
                    [0, 0, 205], [255, 160, 122], [75, 0, 130], [255, 215, 0],
                    [240, 248, 255], [128, 0, 0], [255, 105, 180]]

# part 0 ('other') of every object is grey; parts 1.. get distinct colours
_PART_COLOURS = [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                 [245, 130, 48], [145, 30, 180]]
PART_PALETTE = {
    name: [[128, 128, 128]] + _PART_COLOURS[:len(parts) - 1]
    for name, parts in PART_CLASSES.items()
}

OBJECT_INDEX = {name: index for index, name in enumerate(OBJECT_CLASSES)}
MATERIAL_INDEX = {name: index for index, name in enumerate(MATERIAL_CLASSES)}
SCENE_INDEX = {name: index for index, name in enumerate(SCENE_CLASSES)}
TEXTURE_INDEX = {name: index for index, name in enumerate(TEXTURE_CLASSES)}
PART_INDEX = {
    obj: {
        part: index
        for index, part in enumerate(parts)
    }
    for obj, parts in PART_CLASSES.items()
}

# object index -> number of parts (including 'other'); 0 for objects
# without parts
NUM_PARTS_OF_OBJECT = tuple(
    len(PART_CLASSES.get(name, ())) for name in OBJECT_CLASSES)

METAINFO = dict(
    classes=OBJECT_CLASSES,
    palette=OBJECT_PALETTE,
    part_classes=PART_CLASSES,
    part_palette=PART_PALETTE,
    material_classes=MATERIAL_CLASSES,
    material_palette=MATERIAL_PALETTE,
    scene_classes=SCENE_CLASSES,
    texture_classes=TEXTURE_CLASSES,
    tasks=TASKS)
