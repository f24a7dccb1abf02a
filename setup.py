import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

try:  # gone from setuptools where `develop` became `pip install -e`
    from setuptools.command.develop import develop
except ImportError:  # pragma: no cover
    develop = None

HERE = osp.dirname(osp.abspath(__file__))
#: What ``hclmm/.mim`` holds: the files that mmengine's ``hclmm::`` config
#: scope and ``mim train|test|run hclmm`` look up in the installed package.
MIM_FILES = ('configs', 'tools', 'model-index.yml')
#: A model index without entries: what ``.mim`` gets when the source has
#: none (mmengine reads ``.mim/model-index.yml`` before it falls back to
#: ``.mim/configs``).
EMPTY_MODEL_INDEX = 'Import: []\n'


def readme():
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    path = osp.join(HERE, 'hclmm', 'version.py')
    with open(path, encoding='utf-8') as f:
        exec(compile(f.read(), path, 'exec'), scope)
    return scope['__version__']


def parse_requirements(path):
    reqs = []
    with open(osp.join(HERE, path), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def _remove(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


def add_mim_extension(mim_dir, mode):
    """Fill ``mim_dir`` (a package's ``.mim`` folder) from the source tree.

    Args:
        mim_dir (str): The folder to fill; what it held is replaced.
        mode (str): ``'link'`` (editable installs: relative symbolic links
            into the source tree, so edits show at once; copies where the
            file system refuses links) or ``'copy'`` (wheels and installs).
    """
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        _remove(dst)
        if not osp.exists(src):
            if name == 'model-index.yml':
                with open(dst, 'w', encoding='utf-8') as f:
                    f.write(EMPTY_MODEL_INDEX)
            continue
        if mode == 'link':
            try:
                os.symlink(osp.relpath(src, mim_dir), dst)
                continue
            except OSError:
                pass  # e.g. Windows without the right to make links
        if osp.isdir(src):
            shutil.copytree(
                src, dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildPy(build_py):
    """``build_py`` that ships configs and tools in ``hclmm/.mim``: copied
    into the build for a wheel or an install, linked in the source tree for
    an editable install (setuptools runs this command then too)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            add_mim_extension(osp.join(HERE, 'hclmm', '.mim'), 'link')
        else:
            add_mim_extension(
                osp.join(self.build_lib, 'hclmm', '.mim'), 'copy')


CMDCLASS = {'build_py': BuildPy}
if develop is not None:

    class Develop(develop):
        """``setup.py develop`` (setuptools < 64, no editable wheels):
        links ``hclmm/.mim`` too."""

        def run(self):
            add_mim_extension(osp.join(HERE, 'hclmm', '.mim'), 'link')
            super().run()

    CMDCLASS['develop'] = Develop


setup(
    name='hclmm',
    version=get_version(),
    description='Hyperbolic contrastive learning of scenes and objects, '
    'an OpenMMLab plug-in',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'benchmarks', 'docs')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': parse_requirements('requirements/tests.txt'),
        'mim': parse_requirements('requirements/mminstall.txt'),
        'transfer': parse_requirements('requirements/transfer.txt'),
        'all': parse_requirements('requirements/mminstall.txt') +
        parse_requirements('requirements/transfer.txt') +
        parse_requirements('requirements/tests.txt'),
    },
    cmdclass=CMDCLASS,
    license='Apache License 2.0',
    zip_safe=False,
)
