"""Classes and palette of SyntheticScenes, the one place that defines them.

Every pixel of a SyntheticScenes label map holds one of these class indices;
there is no background or "other" class, and index 0 (``sky``) is a real
class. Label 255 never occurs in the files: it is left to the pipeline's
padding (``seg_pad_val=255``), which the loss and the metric ignore.

What makes each class identifiable (see ``synthetic_scenes_generator``):

* ``sky``: top of street scenes; blue or overcast vertical gradient with
  soft clouds. Indoor walls can have sky-like colours: layout tells them
  apart.
* ``building``: row of facades standing on the horizon; brick, concrete or
  panel textures, random colour per building, flat or gabled roofs.
* ``window``: framed panels in a grid on buildings. Drawn by the same
  generator as ``painting``: only the context (on a facade, outdoors) tells
  them apart.
* ``tree``: textured foliage blobs on a brown trunk standing on the ground;
  the same greens as ``grass``, told apart by texture, shape and position.
* ``grass``: the ground beside the road, fine vertical blade texture.
* ``road``: asphalt trapezoid in perspective, with dashed lane markings that
  belong to the road.
* ``car``: side view, per-car paint colour with shading, dark cabin windows
  and lights (all labelled car); stands on the road, size by depth.
* ``wheel``: dark tyre with a lighter hub, always at the bottom of a car.
* ``person``: head, torso, arms and legs with random clothing colours;
  stands on the ground in both scene types, size by depth, occludes and is
  occluded.
* ``wall``: upper part of room scenes, pastel colours, plain or striped
  wallpaper, lighting gradient, skirting board.
* ``floor``: lower part of room scenes; wooden planks, tiles or carpet.
* ``painting``: framed panels hung on the wall, the same generator as
  ``window`` (context only).
* ``table``: slab and legs standing on the floor; often the same wood texture
  as the floor, told apart by shape and position.
"""

CLASSES = ('sky', 'building', 'window', 'tree', 'grass', 'road', 'car',
           'wheel', 'person', 'wall', 'floor', 'painting', 'table')

# RGB, as mmseg's palettes
PALETTE = [[70, 130, 180], [180, 120, 120], [230, 230, 230], [34, 139, 34],
           [152, 251, 152], [128, 64, 128], [0, 0, 142], [255, 200, 0],
           [220, 20, 60], [120, 120, 70], [80, 50, 50], [255, 102, 204],
           [210, 105, 30]]

METAINFO = dict(classes=CLASSES, palette=PALETTE)

CLASS_INDEX = {name: index for index, name in enumerate(CLASSES)}
