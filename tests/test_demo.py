"""tools/demo.py without a browser: upernet_mm.demo's app (decode, segment,
legend) and its HTTP server (routes, refusals, headers, localhost only)."""
import base64
import builtins
import glob
import http.client
import io
import json
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

import upernet_mm.demo
from helpers import ROOT
from helpers.tiny_checkpoint import write_tiny_checkpoint
from upernet_mm.datasets.synthetic_scenes_classes import CLASSES


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp('demo'))


@pytest.fixture(scope='module')
def app(tiny):
    from upernet_mm.apis import init_model
    from upernet_mm.demo import DemoApp, synthetic_scenes_examples
    model = init_model(*tiny, device='cpu')
    return DemoApp(model, 'tiny.py', synthetic_scenes_examples(2, size=64))


@pytest.fixture(scope='module')
def server(app):
    from upernet_mm.demo import DemoServer
    srv = DemoServer(app, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(server, method, path, body=None, headers=None):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def png_bytes(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format='PNG')
    return buf.getvalue()


def decode_labels(level, height, width):
    raw = zlib.decompress(base64.b64decode(level['labels']['data']))
    dtype = np.uint8 if level['labels']['dtype'] == 'uint8' else '<u2'
    return np.frombuffer(raw, dtype).reshape(height, width)


def test_segment_matches_the_api_and_the_legend_counts_pixels(app):
    from upernet_mm.apis import inference_model
    rgb = app.examples[1][1]
    out = app.segment(png_bytes(rgb), 'scene.png')
    assert (out['width'], out['height']) == (64, 64)
    assert out['image'].startswith('data:image/png;base64,')
    shown = np.asarray(
        Image.open(
            io.BytesIO(base64.b64decode(out['image'].split(',', 1)[1]))))
    np.testing.assert_array_equal(shown, rgb)
    [level] = out['levels']
    assert level['name'] == 'object' and out['scores'] == []
    labels = decode_labels(level, 64, 64)
    expected = inference_model(app.model, np.ascontiguousarray(
        rgb[..., ::-1])).pred_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(labels, expected)
    legend = level['legend']
    assert len(legend) >= 2, 'the tiny model should predict several classes'
    assert [e['index'] for e in legend] == sorted(
        np.unique(labels).tolist(), key=lambda i: -(labels == i).sum())
    for entry in legend:
        assert entry['name'] == CLASSES[entry['index']]
        share = (labels == entry['index']).mean()
        assert entry['share'] == pytest.approx(share)
        assert entry['color'] == list(app.palette[entry['index']])
    assert sum(e['share'] for e in legend) == pytest.approx(1)


def test_examples_are_the_synthetic_scenes_validation_images():
    from upernet_mm.datasets.synthetic_scenes_folder import render_split_scene
    from upernet_mm.demo import synthetic_scenes_examples
    [(name, rgb)] = synthetic_scenes_examples(1, size=64)
    assert name == 'synthetic_scenes_val_00000'
    expected = render_split_scene(0, 'validation', 0, 64)[0]
    np.testing.assert_array_equal(rgb, expected)


@pytest.mark.parametrize('data,message', [
    (b'', 'is empty'),
    (b'name,value\n1,2\n', 'is not an image the demo can read'),
    (b'%PDF-1.4\n' + b'0' * 100, 'is not an image the demo can read'),
])
def test_refuses_files_that_are_not_images(app, data, message):
    from upernet_mm.demo import DemoInputError
    with pytest.raises(DemoInputError, match=message) as info:
        app.segment(data, 'notes.csv')
    assert 'notes.csv' in str(info.value)


def test_refuses_a_truncated_png(app):
    from upernet_mm.demo import DemoInputError
    data = png_bytes(app.examples[0][1])
    with pytest.raises(DemoInputError, match='corrupt or truncated'):
        app.segment(data[:len(data) // 2], 'cut.png')


def test_segment_writes_no_file(app, monkeypatch):
    real_open = builtins.open

    def read_only_open(file, mode='r', *args, **kwargs):
        assert not set(mode) & set('wax+'), f'opened {file} with {mode}'
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', read_only_open)
    app.segment(png_bytes(app.examples[0][1]), 'a.png')


def test_http_page_api_and_headers(server):
    resp, html = request(server, 'GET', '/')
    assert resp.status == 200
    assert resp.getheader('Content-Type').startswith('text/html')
    csp = resp.getheader('Content-Security-Policy')
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    for path in ('/', '/app.js', '/style.css'):
        body = request(server, 'GET', path)[1].decode()
        # everything comes from the demo server: no URL of another origin
        assert 'http://' not in body and 'https://' not in body, path
        assert not re.search(r'''(src|href)=["']?//|url\(\s*["']?//''',
                             body), path
    info = json.loads(request(server, 'GET', '/api/info')[1])
    assert info['levels'][0]['classes'] == list(CLASSES)
    assert [e['url']
            for e in info['examples']] == ['examples/0.png', 'examples/1.png']
    resp, png = request(server, 'GET', '/examples/1.png')
    assert resp.status == 200 and png.startswith(b'\x89PNG')
    assert request(server, 'GET', '/examples/2.png')[0].status == 404
    assert request(server, 'GET', '/etc/passwd')[0].status == 404
    # the page's files are the package's static/ files, served by a fixed
    # list of paths: nothing else of the package is reachable
    static = osp.join(osp.dirname(upernet_mm.demo.__file__), 'static')
    for path, name in (('/', 'index.html'), ('/app.js', 'app.js'),
                       ('/style.css', 'style.css')):
        with open(osp.join(static, name), 'rb') as f:
            assert request(server, 'GET', path)[1] == f.read(), path
    for path in ('/static/app.js', '/server.py', '/../server.py',
                 '/%2e%2e/server.py', '/app.js/', '/APP.JS'):
        assert request(server, 'GET', path)[0].status == 404, path

    resp, body = request(server, 'POST', '/api/segment?name=1.png', png)
    assert resp.status == 200
    assert json.loads(body)['levels'][0]['legend']


def test_http_refusals(server):
    resp, body = request(server, 'POST', '/api/segment?name=notes.txt',
                         b'just some text')
    assert resp.status == 400
    error = json.loads(body)['error']
    assert 'notes.txt is not an image the demo can read' in error
    # a page of another site that resolves its own name to 127.0.0.1
    resp, _ = request(
        server, 'GET', '/api/info', headers={'Host': 'attacker.example:80'})
    assert resp.status == 403
    resp, _ = request(
        server,
        'POST',
        '/api/segment',
        b'x',
        headers={'Host': 'attacker.example'})
    assert resp.status == 403
    from upernet_mm.demo.app import MAX_UPLOAD_BYTES
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest('POST', '/api/segment?name=huge.png')
    conn.putheader('Content-Length', str(MAX_UPLOAD_BYTES + 1))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413
    assert 'huge.png' in json.loads(resp.read())['error']
    conn.close()
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest('POST', '/api/segment?name=x.png')
    conn.putheader('Content-Length', '-5')
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


def test_listens_on_localhost_by_default(app):
    from upernet_mm.demo import DemoServer
    srv = DemoServer(app, port=0)
    try:
        assert srv.server_address[0] == '127.0.0.1'
        assert srv.url.startswith('http://127.0.0.1:')
    finally:
        srv.server_close()
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        import demo as demo_tool
    finally:
        sys.path.pop(0)
    args = demo_tool.parse_args(['C', 'K'])
    assert args.host == '127.0.0.1'


@pytest.mark.slow
def test_demo_tool_serves_until_stopped(tiny):
    env = dict(os.environ)
    env['PYTHONPATH'] = osp.pathsep.join([ROOT, env.get('PYTHONPATH', '')])
    env['CUDA_VISIBLE_DEVICES'] = ''
    proc = subprocess.Popen([
        sys.executable,
        osp.join(ROOT, 'tools', 'demo.py'), *tiny, '--port', '0',
        '--num-examples', '1'
    ],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True,
                            env=env)
    try:
        lines = []
        for line in proc.stdout:  # mmengine logs the checkpoint load first
            lines.append(line)
            if line.startswith('demo: serving'):
                break
        assert 'demo: serving tiny.py at http://127.0.0.1:' in line, (
            ''.join(lines) +
            (proc.stderr.read() if proc.poll() is not None else ''))
        url = line.split(' at ')[1].split()[0]
        host, port = url[len('http://'):].rstrip('/').split(':')
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request('GET', '/api/info')
        info = json.loads(conn.getresponse().read())
        assert len(info['examples']) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_multi_task_model_has_a_view_per_level_and_top5_scores(tmp_path):
    from helpers.tiny_checkpoint import write_tiny_upp_checkpoint
    from upernet_mm.apis import init_model
    from upernet_mm.datasets.unified_parsing_classes import (MATERIAL_CLASSES,
                                                             OBJECT_CLASSES,
                                                             PART_CLASSES,
                                                             SCENE_CLASSES,
                                                             TEXTURE_CLASSES)
    from upernet_mm.demo import DemoApp, synthetic_scenes_examples
    from upernet_mm.demo.app import NO_PARTS
    model = init_model(*write_tiny_upp_checkpoint(tmp_path), device='cpu')
    app = DemoApp(model, 'tiny_upp.py', synthetic_scenes_examples(1, size=64))
    info = app.info()
    assert [lv['name']
            for lv in info['levels']] == ['object', 'part', 'material']
    assert [t['name'] for t in info['image_tasks']] == ['scene', 'texture']
    part_classes = info['levels'][1]['classes']
    assert part_classes[-1] == NO_PARTS
    assert len(part_classes) == 1 + sum(map(len, PART_CLASSES.values()))
    assert 'car: door' in part_classes
    assert info['levels'][2]['classes'] == list(MATERIAL_CLASSES)

    out = app.segment(png_bytes(app.examples[0][1]), 'scene.png')
    assert [lv['name']
            for lv in out['levels']] == ['object', 'part', 'material']
    objects, parts, materials = (
        decode_labels(lv, 64, 64) for lv in out['levels'])
    # every part pixel belongs to a part of the object predicted there
    for index in np.unique(parts):
        where = parts == index
        if part_classes[index] == NO_PARTS:
            # 255 in pred_part_seg: the predicted object has no parts
            assert all(OBJECT_CLASSES[o] not in PART_CLASSES
                       for o in np.unique(objects[where]))
            continue
        owner = part_classes[index].split(': ')[0]
        assert set(np.unique(objects[where])) == {OBJECT_CLASSES.index(owner)}
    assert materials.max() < len(MATERIAL_CLASSES)
    for lv in out['levels']:
        assert sum(e['share'] for e in lv['legend']) == pytest.approx(1)
    scene, texture = out['scores']
    assert scene['name'] == 'scene' and texture['name'] == 'texture'
    assert len(scene['top']) == 5 and len(texture['top']) == 5
    values = [t['score'] for t in scene['top']]
    assert values == sorted(values, reverse=True) and sum(values) <= 1 + 1e-6
    assert {t['name'] for t in scene['top']} <= set(SCENE_CLASSES)
    assert {t['name'] for t in texture['top']} <= set(TEXTURE_CLASSES)


def test_unified_parsing_quick_start_config_runs_in_the_demo():
    # the repository's multi-task config as written (its test pipeline
    # loads annotations, which images from the page do not have)
    from upernet_mm.apis import init_model
    from upernet_mm.demo import DemoApp, synthetic_scenes_examples

    # the quick start, whatever its schedule in the name
    [config] = glob.glob(
        osp.join(
            ROOT, 'configs', 'unified_parsing',
            'upernet-upp_convnext-atto_1xb8-*iter_unified-parsing-96x96.py'))
    model = init_model(config, None, device='cpu')
    app = DemoApp(model, 'upp', synthetic_scenes_examples(1, size=64))
    out = app.segment(png_bytes(app.examples[0][1]), 'a.png')
    assert [lv['name']
            for lv in out['levels']] == ['object', 'part', 'material']
    assert [s['name'] for s in out['scores']] == ['scene', 'texture']


def test_demo_serves_a_transformers_upernet_directory(tmp_path):
    pytest.importorskip('transformers')
    import tempfile

    from helpers.hf import CLASSES as HF_CLASSES
    from helpers.hf import save_hf_upernet, tiny_convnext
    from upernet_mm.apis import init_model
    from upernet_mm.demo import DemoApp, synthetic_scenes_examples
    hf_dir = tmp_path / 'upernet-convnext-mini'
    save_hf_upernet(
        hf_dir,
        tiny_convnext(),
        num_labels=len(HF_CLASSES),
        processor=dict(do_resize=False))
    before = set(os.listdir(tempfile.gettempdir()))
    model = init_model(str(hf_dir), str(hf_dir), device='cpu')
    app = DemoApp(model, hf_dir.name, synthetic_scenes_examples(1, size=64))
    assert app.info()['levels'][0]['classes'] == list(HF_CLASSES)
    out = app.segment(png_bytes(app.examples[0][1]), 'a.png')
    assert {e['name'] for e in out['levels'][0]['legend']} <= set(HF_CLASSES)
    # the on-the-fly conversion leaves nothing behind
    leftovers = set(os.listdir(tempfile.gettempdir())) - before
    assert not [n for n in leftovers if n.startswith('upernet_mm_hf_')]
