import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version():
    scope = {}
    with open(osp.join(HERE, 'upernet_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(name):
    """Requirement lines of ``requirements/{name}.txt``, comments dropped."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def add_mim_extension():
    """Ship ``configs/`` and ``tools/`` inside the package as
    ``upernet_mm/.mim/``, where openmim looks for them.

    Editable installs get symlinks (edits show up at once); builds of wheels
    and sdists get copies.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(
            cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'install',
                                        'build', 'build_py')):
        mode = 'copy'
    else:
        return
    mim_root = osp.join(HERE, 'upernet_mm', '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for name in ('configs', 'tools'):
        src, dst = osp.join(HERE, name), osp.join(mim_root, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_root), dst)
        else:
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='upernet_mm',
        version=get_version(),
        description='UPerNet decode heads, configs and tools as an '
        'OpenMMLab plugin, with Hugging Face interop',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='semantic segmentation, UPerNet, OpenMMLab',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={
            'upernet_mm':
            ['.mim/configs/**/*', '.mim/tools/**/*', 'demo/static/*']
        },
        python_requires='>=3.9',
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime'),
        extras_require={
            'mim':
            parse_requirements('mminstall'),
            'tests':
            parse_requirements('tests'),
            'lint':
            parse_requirements('lint'),
            'optional':
            parse_requirements('optional'),
            'all':
            parse_requirements('runtime') + parse_requirements('optional') +
            parse_requirements('tests') + parse_requirements('lint'),
        },
        zip_safe=False)
