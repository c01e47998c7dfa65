"""configs/ and tools/ reach users through the package, as openmim expects."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

import upernet_mm
from helpers import ROOT

# what upernet_mm.demo.server serves
DEMO_PAGE_FILES = ('index.html', 'style.css', 'app.js')


def _expected_files():
    configs = [
        osp.relpath(p, ROOT) for p in glob.glob(
            osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    ]
    tools = [
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'tools', '**', '*'), recursive=True)
        if p.endswith(('.py', '.sh'))
    ]
    assert configs and tools
    return configs + tools


def test_installed_package_has_the_demo_page():
    static = osp.join(osp.dirname(upernet_mm.__file__), 'demo', 'static')
    assert sorted(os.listdir(static)) == sorted(DEMO_PAGE_FILES)


def test_installed_package_has_mim_configs_and_tools():
    mim = osp.join(osp.dirname(upernet_mm.__file__), '.mim')
    for rel in _expected_files():
        assert osp.isfile(osp.join(mim, rel)), rel


@pytest.mark.slow
def test_wheel_ships_configs_tools_and_the_demo_page(tmp_path):
    src = tmp_path / 'src'
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns('.venv', '.git', 'data', 'work_dirs',
                                      '.mim', '__pycache__', '*.egg-info',
                                      'build', 'dist', '.pytest_cache'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
        '--no-build-isolation',
        str(src), '-w',
        str(tmp_path / 'wheel')
    ],
                   check=True,
                   capture_output=True)
    wheel, = glob.glob(str(tmp_path / 'wheel' / 'upernet_mm-*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in _expected_files():
        assert f'upernet_mm/.mim/{rel}' in names, rel
    assert 'upernet_mm/models/decode_heads/uper_head.py' in names
    for name in DEMO_PAGE_FILES:
        assert f'upernet_mm/demo/static/{name}' in names, name
