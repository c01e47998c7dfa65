import os.path as osp

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


if __name__ == '__main__':
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
        python_requires='>=3.9',
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime'),
        extras_require={
            'mim': parse_requirements('mminstall'),
            'tests': parse_requirements('tests'),
            'optional': parse_requirements('optional'),
            'all': parse_requirements('runtime') +
            parse_requirements('optional') + parse_requirements('tests'),
        },
        zip_safe=False)
