"""A tiny data root shaped like Broden+ (the sources of the Broden+ recipe:
ade20k, pascal_part, opensurfaces, dtd), made from the embedded data."""
import json
import os
import os.path as osp
import shutil

from upernet_mm.datasets import write_unified_parsing
from upernet_mm.datasets.unified_parsing_embedded import MANIFEST

# embedded source -> (Broden+ source, tasks)
BRODEN_SOURCES = {
    'ade20k': ('scenes', ('object', 'part', 'scene')),
    'pascal_part': ('scenes', ('object', 'part')),
    'opensurfaces': ('materials', ('material', )),
    'dtd': ('textures', ('texture', )),
}


def write_broden_like(root, generator_cfg):
    """Write the four Broden+ sources under ``root`` (user data: no
    manifest) and return ``root``."""
    tmp = str(root) + '.embedded'
    write_unified_parsing(tmp, generator_cfg)
    os.makedirs(root)
    for name, (embedded, tasks) in BRODEN_SOURCES.items():
        target = osp.join(root, name)
        shutil.copytree(osp.join(tmp, embedded), target)
        if 'scene' not in tasks and 'texture' not in tasks:
            shutil.rmtree(osp.join(target, 'labels'), ignore_errors=True)
        with open(osp.join(target, 'source.json'), 'w') as f:
            json.dump(dict(tasks=list(tasks)), f)
    shutil.rmtree(tmp)
    assert not osp.exists(osp.join(root, MANIFEST))
    return str(root)
