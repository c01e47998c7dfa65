"""Dataset converters into the unified parsing layout: the full ADE20K
release (on the real sample files of ../shared, and on hostile files made
in its format), OpenSurfaces and Pascal-Part (on small files written in
exactly their released formats)."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from helpers import ROOT, run_tool
from upernet_mm.datasets.converters.ade20k_full import (convert_ade20k_full,
                                                        decode_class_map,
                                                        read_annotation)
from upernet_mm.datasets.converters.opensurfaces import convert_opensurfaces
from upernet_mm.datasets.converters.pascal_part import convert_pascal_part
from upernet_mm.datasets.unified_parsing import UnifiedParsingDataset
from upernet_mm.datasets.unified_parsing_check import \
    check_unified_parsing_samples
from upernet_mm.datasets.unified_parsing_layout import (
    UnifiedParsingDataError, read_metainfo_file)

SAMPLES = osp.join(osp.dirname(ROOT), 'shared', 'data', 'ade20k_full_samples')
STREET = osp.join(SAMPLES, 'dataset', 'ADE20K_2021_17_01', 'images', 'ADE',
                  'training', 'urban', 'street')
needs_samples = pytest.mark.skipif(
    not osp.isdir(SAMPLES),
    reason='../shared/data/ade20k_full_samples (the real ADE20K sample '
    'files) is absent from this checkout\'s parent folder')


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('ade') / 'ade20k')
    result = convert_ade20k_full(SAMPLES, out, log=lambda *_: None)
    return out, result


def _raw(stem):
    base = osp.join(STREET, stem)
    size = Image.open(base + '.jpg').size
    ann = read_annotation(base + '.json')
    parts = decode_class_map(base + '_parts_1.png',
                             size) if osp.isfile(base +
                                                 '_parts_1.png') else None
    return ann, decode_class_map(base + '_seg.png', size), parts


@needs_samples
def test_ade20k_full_objects_parts_scenes(converted):
    out, result = converted
    meta = result['metainfo']
    assert len(meta['classes']) == 150 and meta['classes'][20] == 'car'
    assert meta['scene_classes'] == ['street']
    # the parts the two images annotate on ADE20K-150 objects
    assert 'window' in meta['part_classes']['building']
    assert meta['part_classes']['car'][0] == 'other'
    assert len(meta['part_classes']['car']) > 2
    labels = json.load(open(osp.join(out, 'labels', 'training.json')))
    stems = sorted(labels)
    assert len(stems) == 2 and all(v == {'scene': 'street'}
                                   for v in labels.values())
    for stem in stems:
        ann, seg, parts = _raw(stem)
        obj = np.asarray(
            Image.open(osp.join(out, 'object', 'training', stem + '.png')))
        part = np.asarray(
            Image.open(osp.join(out, 'part', 'training', stem + '.png')))
        assert obj.dtype == np.uint8 and obj.shape == seg.shape
        # every object pixel: the class of its full-release index's name
        assert (obj[seg == 0] == 255).all()
        assert (obj[seg == 401] == meta['classes'].index('car')).all()
        assert (obj[seg == 2420] == meta['classes'].index('sky')).all()
        # central reservation (461) is not an ADE20K-150 class
        assert (obj[seg == 461] == 255).all()
        # parts only on objects whose parts are annotated in this image;
        # every pixel of those objects labelled (0 = other)
        annotated = {meta['classes'][i] for i in np.unique(obj[part != 255])}
        assert annotated <= set(meta['part_classes'])
        for name in annotated:
            on = obj == meta['classes'].index(name)
            assert (part[on] < len(meta['part_classes'][name])).all()
        assert (part[obj == 255] == 255).all()
        # a building window (3050 in _parts_1.png on building pixels)
        windows = (seg == 312) & (parts == 3050)
        if windows.any():
            assert (part[windows] == meta['part_classes']['building'].index(
                'window')).all()
    # the car of the first image has annotated parts: labelled there
    first = np.asarray(
        Image.open(osp.join(out, 'part', 'training', stems[0] + '.png')))
    first_obj = np.asarray(
        Image.open(osp.join(out, 'object', 'training', stems[0] + '.png')))
    car = first_obj == meta['classes'].index('car')
    assert (first[car] != 255).any() and (first[car] > 0).any()


@needs_samples
def test_ade20k_full_source_passes_the_checks(converted, tmp_path):
    out, _ = converted
    root = osp.dirname(out)
    dataset = UnifiedParsingDataset(
        data_root=root,
        split='training',
        generate_if_missing=False,
        metainfo=read_metainfo_file(osp.join(out, 'metainfo.json')),
        serialize_data=False)
    assert len(dataset) == 2 and dataset.source_tasks() == {
        'ade20k': ('object', 'part', 'scene')
    }
    assert check_unified_parsing_samples(dataset) == {'ade20k': 2}
    assert dataset.get_data_info(0)['scene_label'] == 0
    # without the class lists the source's metainfo.json disagrees
    with pytest.raises(
            UnifiedParsingDataError,
            match='metainfo.json gives other classes than the '
            'dataset'):
        UnifiedParsingDataset(data_root=root, generate_if_missing=False)


@pytest.mark.slow
@needs_samples
def test_ade20k_full_tool(tmp_path):
    """The documented command lines, end to end: convert, then check."""
    out = tmp_path / 'data' / 'ade'
    done = run_tool(
        osp.join('dataset_converters', 'ade20k_full.py'), SAMPLES, '--out',
        str(out), '--min-part-images', '2')
    assert 'wrote' in done.stdout and osp.isfile(out / 'metainfo.json')
    done = run_tool(
        osp.join('analysis_tools', 'check_unified_parsing.py'),
        str(tmp_path / 'data'), '--metainfo', str(out / 'metainfo.json'))
    assert 'training: ade: 2 images, tasks object, part, scene ' \
        '(decoded and checked)' in done.stdout
    meta = json.load(open(out / 'metainfo.json'))
    # parts annotated in both images only
    assert all(len(parts) >= 2 for parts in meta['part_classes'].values())
    again = run_tool(
        osp.join('dataset_converters', 'ade20k_full.py'),
        SAMPLES,
        '--out',
        str(out),
        check=False)
    assert again.returncode != 0 and 'is never written over' in again.stderr


# ---------------------------------------------- hostile files, ADE format


def _ade_image(root,
               stem='ADE_train_00000001',
               size=(40, 30),
               objects=None,
               scene=('outdoor', 'street'),
               seg=None,
               parts=None):
    """Write one image of the full release's format under ``root``."""
    folder = osp.join(root, 'images', 'ADE', 'training', 'x')
    os.makedirs(folder, exist_ok=True)
    w, h = size
    Image.new('RGB', size, (90, 90, 90)).save(osp.join(folder, stem + '.jpg'))

    def code(classes):
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[..., 0] = classes // 256 * 10
        rgb[..., 1] = classes % 256
        return rgb

    if seg is None:
        seg = np.zeros((h, w), np.int32)
        seg[:, :20] = 401  # car
        seg[:, 20:] = 312  # building
    Image.fromarray(code(seg)).save(osp.join(folder, stem + '_seg.png'))
    if parts is not None:
        Image.fromarray(code(parts)).save(
            osp.join(folder, stem + '_parts_1.png'))
    if objects is None:
        objects = [
            dict(
                id=0,
                name='car, auto, automobile, machine, motorcar',
                name_ndx=401,
                parts=dict(part_level=0, ispartof=[])),
            dict(
                id=1,
                name='building, edifice',
                name_ndx=312,
                parts=dict(part_level=0, ispartof=[])),
        ]
    with open(osp.join(folder, stem + '.json'), 'w') as f:
        json.dump(dict(annotation=dict(scene=list(scene), object=objects)), f)
    return folder


def test_ade20k_format_parts_valid_per_image_and_object(tmp_path):
    root = str(tmp_path / 'ade')
    parts = np.zeros((30, 40), np.int32)
    parts[:10, :10] = 774  # a car door
    objects = [
        dict(
            id=0,
            name='car, auto, automobile, machine, motorcar',
            name_ndx=401,
            parts=dict(part_level=0, ispartof=[])),
        dict(
            id=1,
            name='building, edifice',
            name_ndx=312,
            parts=dict(part_level=0, ispartof=[])),
        dict(
            id=2,
            name='door',
            name_ndx=774,
            parts=dict(part_level=1, ispartof=0)),
    ]
    _ade_image(root, objects=objects, parts=parts)
    # the building has parts in another image only
    seg = np.full((30, 40), 312, np.int32)
    parts2 = np.zeros((30, 40), np.int32)
    parts2[:5] = 3050
    _ade_image(
        root,
        stem='ADE_train_00000002',
        parts=parts2,
        seg=seg,
        objects=[
            dict(
                id=0,
                name='building, edifice',
                name_ndx=312,
                parts=dict(part_level=0, ispartof=[])),
            dict(
                id=1,
                name='window',
                name_ndx=3050,
                parts=dict(part_level=1, ispartof=0)),
        ])
    out = str(tmp_path / 'data' / 'ade')
    meta = convert_ade20k_full(root, out, log=lambda *_: None)['metainfo']
    assert meta['part_classes'] == dict(
        building=['other', 'window'], car=['other', 'door'])
    part = np.asarray(
        Image.open(
            osp.join(out, 'part', 'training', 'ADE_train_00000001.png')))
    assert (part[:10, :10] == 1).all()  # door
    assert (part[10:, :20] == 0).all()  # car outside its door: other
    # the building's parts are not annotated in this image: not labelled
    assert (part[:, 20:] == 255).all()
    part2 = np.asarray(
        Image.open(
            osp.join(out, 'part', 'training', 'ADE_train_00000002.png')))
    assert (part2[:5] == 1).all() and (part2[5:] == 0).all()


def test_ade20k_format_many_classes_make_16_bit_maps(tmp_path):
    root = str(tmp_path / 'ade')
    _ade_image(root)
    names = {f'c{i}': f'thing{i}' for i in range(298)}
    names['car'] = 'car, auto, automobile, machine, motorcar'
    names['building'] = 'edifice, building'  # synonyms in any order
    out = str(tmp_path / 'data' / 'many')
    meta = convert_ade20k_full(
        root, out, object_names=names, log=lambda *_: None)['metainfo']
    assert len(meta['classes']) == 300 and 'palette' not in meta
    obj = np.asarray(
        Image.open(
            osp.join(out, 'object', 'training', 'ADE_train_00000001.png')))
    assert obj.dtype == np.uint16
    assert (obj[:, :20] == 298).all() and (obj[:, 20:] == 299).all()
    dataset = UnifiedParsingDataset(
        data_root=osp.dirname(out),
        generate_if_missing=False,
        ignore_index=65535,
        serialize_data=False,
        metainfo=read_metainfo_file(osp.join(out, 'metainfo.json')))
    assert check_unified_parsing_samples(dataset) == {'many': 1}


@pytest.mark.parametrize('objects, message', [
    ('not a list', r'annotation\.object must be a list'),
    ([dict(id=0, name=5, parts=dict(part_level=0))
      ], r'annotation\.object\[0\] must be an object with a string "name"'),
    ([dict(id=0, name='car', name_ndx='401', parts=dict(part_level=0))
      ], r'annotation\.object\[0\]\.name_ndx must be an integer'),
    ([dict(id=0, name='car', name_ndx=99999, parts=dict(part_level=0))
      ], r'name_ndx 99999 is not a class index'),
    ([dict(id=0, name='car', name_ndx=1, parts=dict(part_level=True))
      ], r'part_level must be an integer, got True'),
    ([
        dict(
            id=0,
            name='car',
            name_ndx=1,
            parts=dict(part_level=1, ispartof='../x'))
    ], r'ispartof must be an integer'),
])
def test_ade20k_format_hostile_json(tmp_path, objects, message):
    root = str(tmp_path / 'ade')
    _ade_image(root, objects=objects)
    with pytest.raises(UnifiedParsingDataError, match=message):
        convert_ade20k_full(root, str(tmp_path / 'out'), log=lambda *_: None)
    assert not osp.exists(tmp_path / 'out' / 'source.json')


def test_ade20k_format_hostile_files(tmp_path):
    root = str(tmp_path / 'ade')
    folder = _ade_image(root)
    # a label map of another size than its image
    Image.new('RGB',
              (8, 8)).save(osp.join(folder, 'ADE_train_00000001_seg.png'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'_seg\.png is 8x8 \(h x w\) but its image is '
            r'30x40'):
        convert_ade20k_full(root, str(tmp_path / 'o1'), log=lambda *_: None)
    # a grey label map
    Image.new('L',
              (40, 30)).save(osp.join(folder, 'ADE_train_00000001_seg.png'))
    with pytest.raises(UnifiedParsingDataError, match='must be an RGB PNG'):
        convert_ade20k_full(root, str(tmp_path / 'o2'), log=lambda *_: None)
    # a .json that is not JSON
    with open(osp.join(folder, 'ADE_train_00000001.json'), 'wb') as f:
        f.write(b'\x80\x04K.')  # a pickle, never unpickled
    with pytest.raises(
            UnifiedParsingDataError, match='cannot be read as JSON'):
        convert_ade20k_full(root, str(tmp_path / 'o3'), log=lambda *_: None)
    # an image name that is no plain file name
    bad = _ade_image(str(tmp_path / 'ade2'), stem='ADE train 1')
    assert osp.isdir(bad)
    with pytest.raises(
            UnifiedParsingDataError, match='is not a plain file name'):
        convert_ade20k_full(
            str(tmp_path / 'ade2'), str(tmp_path / 'o4'), log=lambda *_: None)
    os.makedirs(tmp_path / 'empty' / 'images')
    with pytest.raises(
            UnifiedParsingDataError, match='no images/ADE/training'):
        convert_ade20k_full(
            str(tmp_path / 'empty'), str(tmp_path / 'o5'), log=lambda *_: None)


# ------------------------------------------------------------ OpenSurfaces


def _write_opensurfaces(root, photo_ids=(11, 12, 13), size=(40, 30)):
    """The files of OpenSurfaces' release script: photos.csv,
    label-substance-colors.csv, photos/ID.jpg (twice the labels' size) and
    photos-labels/ID.png (substance in red, name in green, scene in blue)."""
    os.makedirs(osp.join(root, 'photos'))
    os.makedirs(osp.join(root, 'photos-labels'))
    with open(osp.join(root, 'photos.csv'), 'w') as f:
        f.write('photo_id,scene_category_name,scene_category_score,'
                'whitebalanced,whitebalanced_score,fov,flickr_url,'
                'license_name,license_is_creative_commons\n')
        for pid in photo_ids:
            f.write(f'{pid},kitchen,0.9,True,0.8,60.0,,CC BY 2.0,True\n')
    with open(osp.join(root, 'label-substance-colors.csv'), 'w') as f:
        f.write('substance_id,substance_name,red_color\n'
                '7,Brick,1\n3,Glass/Mirror,2\n9,Wood,3\n')
    w, h = size
    for pid in photo_ids:
        Image.new('RGB', (2 * w, 2 * h),
                  (200, 10, 10)).save(osp.join(root, 'photos', f'{pid}.jpg'))
        labels = np.zeros((h, w, 3), np.uint8)
        labels[..., 2] = 5  # scene
        labels[:, :10, 0] = 1  # brick
        labels[:, 10:20, 0] = 2  # glass/mirror
        labels[:, 10:20, 1] = 4  # an object name
        labels[:, 20:30, 0] = 3  # wood
        Image.fromarray(labels).save(
            osp.join(root, 'photos-labels', f'{pid}.png'))


def test_opensurfaces_release_files(tmp_path):
    root = str(tmp_path / 'os')
    _write_opensurfaces(root)
    out = str(tmp_path / 'data' / 'opensurfaces')
    result = convert_opensurfaces(root, out, val_every=3, log=lambda *_: None)
    assert result['metainfo'] == dict(
        material_classes=['brick', 'glass-mirror', 'wood'])
    assert result['counts'] == dict(training=2, validation=1)
    mat = np.asarray(
        Image.open(osp.join(out, 'material', 'validation', '13.png')))
    img = Image.open(osp.join(out, 'images', 'training', '11.jpg'))
    assert img.size == (40, 30) and mat.shape == (30, 40)
    assert (mat[:, :10] == 0).all() and (mat[:, 10:20] == 1).all()
    assert (mat[:, 20:30] == 2).all() and (mat[:, 30:] == 255).all()
    # a list of its own: wood only
    out2 = str(tmp_path / 'data2' / 'os')
    convert_opensurfaces(
        root, out2, material_classes=['wood'], log=lambda *_: None)
    mat = np.asarray(
        Image.open(osp.join(out2, 'material', 'training', '11.png')))
    assert (mat[:, 20:30] == 0).all() and (mat[:, :20] == 255).all()
    dataset = UnifiedParsingDataset(
        data_root=osp.dirname(out),
        generate_if_missing=False,
        metainfo_from_sources=True,
        serialize_data=False)
    assert check_unified_parsing_samples(dataset) == {'opensurfaces': 2}


def test_opensurfaces_hostile_files(tmp_path):
    root = str(tmp_path / 'os')
    _write_opensurfaces(root)
    with open(osp.join(root, 'label-substance-colors.csv'), 'a') as f:
        f.write('1,Evil,../../etc\n')
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"red_color must be an integer in 1-255, got "
            r"'\.\./\.\./etc'"):
        convert_opensurfaces(root, str(tmp_path / 'o'), log=lambda *_: None)
    root = str(tmp_path / 'os2')
    _write_opensurfaces(root)
    Image.new('L', (40, 30)).save(osp.join(root, 'photos-labels', '12.png'))
    with pytest.raises(
            UnifiedParsingDataError, match=r'12\.png must be an RGB PNG'):
        convert_opensurfaces(root, str(tmp_path / 'o2'), log=lambda *_: None)


# ------------------------------------------------------------- Pascal-Part


def _write_pascal_part(root, images, name, objects, size=(24, 16)):
    """One image of VOC2010 and its Annotations_Part .mat (MATLAB v5, as
    the release: anno.imname, anno.objects(i).class/class_ind/mask/parts,
    parts(j).part_name/mask)."""
    os.makedirs(osp.join(root, 'Annotations_Part'), exist_ok=True)
    os.makedirs(images, exist_ok=True)
    w, h = size
    Image.new('RGB', (w, h),
              (10, 200, 10)).save(osp.join(images, name + '.jpg'))
    records = np.zeros((1, len(objects)),
                       dtype=[('class', 'O'), ('class_ind', 'O'),
                              ('mask', 'O'), ('parts', 'O')])
    for i, (cls, ind, mask, parts) in enumerate(objects):
        part_records = np.zeros((1, len(parts)),
                                dtype=[('part_name', 'O'), ('mask', 'O')])
        for j, (pname, pmask) in enumerate(parts):
            part_records[0, j] = (pname, pmask.astype(np.uint8))
        records[0, i] = (cls, np.array([[ind]],
                                       np.uint8), mask.astype(np.uint8),
                         part_records if parts else np.zeros((0, 0)))
    savemat(
        osp.join(root, 'Annotations_Part', name + '.mat'),
        dict(anno=dict(imname=name, objects=records)))


def test_pascal_part_release_files(tmp_path):
    root, images = str(tmp_path / 'pp'), str(tmp_path / 'voc')
    car, person = np.zeros((16, 24), bool), np.zeros((16, 24), bool)
    car[:, :12] = True
    person[:, 8:20] = True  # occludes the car's right part
    wheel = np.zeros((16, 24), bool)
    wheel[12:, 2:6] = True
    wheel2 = np.zeros((16, 24), bool)
    wheel2[12:, 6:11] = True  # partly under the person
    head = np.zeros((16, 24), bool)
    head[:4, 8:20] = True
    _write_pascal_part(root, images, '2008_000001', [
        ('car', 7, car, [('wheel_1', wheel), ('wheel_2', wheel2)]),
        ('person', 15, person, []),
    ])
    _write_pascal_part(root, images, '2008_000002', [
        ('person', 15, person, [('head', head)]),
    ])
    with open(tmp_path / 'val.txt', 'w') as f:
        f.write('2008_000002\n')
    with open(tmp_path / 'train.txt', 'w') as f:
        f.write('2008_000001\n2008_000002\n')
    out = str(tmp_path / 'data' / 'pascal_part')
    result = convert_pascal_part(
        root,
        images,
        out,
        split_files=dict(
            training=str(tmp_path / 'train.txt'),
            validation=str(tmp_path / 'val.txt')),
        log=lambda *_: None)
    meta = result['metainfo']
    assert meta['classes'][6] == 'car' and len(meta['classes']) == 20
    assert meta['part_classes'] == dict(
        car=['other', 'wheel'], person=['other', 'head'])
    obj = np.asarray(
        Image.open(osp.join(out, 'object', 'training', '2008_000001.png')))
    part = np.asarray(
        Image.open(osp.join(out, 'part', 'training', '2008_000001.png')))
    assert (obj[:, :8] == 6).all() and (obj[:, 8:20] == 14).all()
    assert (obj[:, 20:] == 255).all()
    assert (part[12:, 2:8] == 1).all()  # both wheels, where visible
    assert (part[:12, :8] == 0).all()  # the car outside its wheels
    # the person's parts are not annotated in this image: not labelled
    assert (part[:, 8:] == 255).all()
    part2 = np.asarray(
        Image.open(osp.join(out, 'part', 'validation', '2008_000002.png')))
    assert (part2[:4, 8:20] == 1).all() and (part2[4:, 8:20] == 0).all()
    dataset = UnifiedParsingDataset(
        data_root=osp.dirname(out),
        generate_if_missing=False,
        metainfo_from_sources=True,
        serialize_data=False)
    assert check_unified_parsing_samples(dataset) == {'pascal_part': 2}


def test_pascal_part_hostile_files(tmp_path):
    root, images = str(tmp_path / 'pp'), str(tmp_path / 'voc')
    mask = np.ones((16, 24), bool)
    _write_pascal_part(
        root,
        images,
        '2008_000001',
        [
            ('car', 7, mask[:8], []),  # a mask of another size than the image
        ])
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'anno\.objects\(1\)\.mask must be a 2-D '
            r'integer mask of 16x24'):
        convert_pascal_part(
            root, images, str(tmp_path / 'o'), log=lambda *_: None)
    with open(osp.join(root, 'Annotations_Part', '2008_000001.mat'),
              'wb') as f:
        f.write(b'\x80\x04K.')  # a pickle, not a MATLAB file
    with pytest.raises(
            UnifiedParsingDataError,
            match='cannot be read as a MATLAB v5 file'):
        convert_pascal_part(
            root, images, str(tmp_path / 'o'), log=lambda *_: None)
