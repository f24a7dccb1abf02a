"""Does this Python environment fit hclmm? One screen: each package, the
version found, the range hclmm supports, and what to change.

    python tools/check_env.py             # the pretraining stack must fit;
                                          # transfer (mmdet, mmseg, mmcv's
                                          # ops) is reported
    python tools/check_env.py --transfer  # the transfer stack must fit too
    python tools/check_env.py --pinned    # and be exactly the versions of
                                          # requirements/pinned.txt (what
                                          # `make setup` installs)

The supported ranges are read from ``requirements/`` (runtime.txt,
mminstall.txt, transfer.txt) beside this tool, or, in an installed package
without them, from hclmm's installed metadata. Exits with 1 when something
required does not fit, 0 otherwise.
"""
import argparse
import importlib
import importlib.metadata as metadata
import os.path as osp
import platform
import re
import sys
from typing import Dict, List, NamedTuple, Optional

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REQUIREMENTS = osp.join(ROOT, 'requirements')


class Package(NamedTuple):
    """A package that hclmm needs: its pip names, module and role."""
    name: str  # the pip name its range is written under
    module: str
    dists: tuple  # distributions that provide the module
    transfer: bool = False  # needed only by the transfer tools


PACKAGES = (
    Package('torch', 'torch', ('torch', )),
    Package('torchvision', 'torchvision', ('torchvision', )),
    Package('mmcv', 'mmcv', ('mmcv', 'mmcv-lite', 'mmcv-full')),
    Package('mmengine', 'mmengine', ('mmengine', 'mmengine-lite')),
    Package('mmpretrain', 'mmpretrain', ('mmpretrain', )),
    Package('geoopt', 'geoopt', ('geoopt', )),
    Package('mmdet', 'mmdet', ('mmdet', ), transfer=True),
    Package('mmsegmentation', 'mmseg', ('mmsegmentation', ), transfer=True),
)


class Row(NamedTuple):
    """One line of the report."""
    name: str
    found: str
    wanted: str
    status: str  # 'ok', 'optional' or a problem ('too old', 'missing', ...)
    advice: str = ''

    @property
    def fails(self) -> bool:
        return self.status not in ('ok', 'optional', 'info')


def read_requirements(paths) -> Dict[str, str]:
    """``{name: specifier}`` of requirement files (``-r``/``-c`` lines and
    comments skipped)."""
    specs = {}
    for path in paths:
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.split('#', 1)[0].strip()
                if line and not line.startswith('-'):
                    req = Requirement(line)
                    specs[req.name.lower()] = _spec_text(req)
    return specs


def _spec_text(req: Requirement) -> str:
    """The specifier of ``req``, lower bounds first (``>=2.0.0,<2.2.0``)."""
    return ','.join(
        sorted(map(str, req.specifier),
               key=lambda s: (not s.startswith('>'), s)))


def supported_ranges() -> Dict[str, str]:
    """The supported ranges: the source tree's requirement files, else the
    installed hclmm's metadata (its requirements and extras)."""
    names = ('runtime.txt', 'mminstall.txt', 'transfer.txt')
    paths = [osp.join(REQUIREMENTS, n) for n in names]
    if all(osp.isfile(p) for p in paths):
        return read_requirements(paths)
    specs = {}
    for line in metadata.requires('hclmm') or []:
        req = Requirement(line)
        specs[req.name.lower()] = _spec_text(req)
    return specs


def python_range() -> str:
    """``python_requires`` of setup.py (or of the installed metadata)."""
    setup = osp.join(ROOT, 'setup.py')
    if osp.isfile(setup):
        with open(setup, encoding='utf-8') as f:
            found = re.search(r"python_requires='([^']+)'", f.read())
        if found:
            return found[1]
    try:
        return metadata.metadata('hclmm')['Requires-Python'] or ''
    except metadata.PackageNotFoundError:
        return ''


def check_version(name: str, found: Optional[str], wanted: str,
                  advice: str = '') -> Row:
    """Compare a found version with a specifier.

    Args:
        name (str): The package's pip name (for the pip command).
        found (str, optional): The installed version; None when missing.
        wanted (str): A specifier such as ``'>=0.10.0,<1.0.0'`` (empty:
            any version).
        advice (str): What to do when it does not fit; default: the pip
            command that installs a version in range.

    Returns:
        Row: ``status`` is ``'ok'``, ``'missing'``, ``'too old'``,
        ``'too new'`` or ``'not in range'``.
    """
    advice = advice or f'pip install "{name}{wanted}"'
    if found is None:
        return Row(name, '-', wanted or 'any', 'missing', advice)
    spec = SpecifierSet(wanted)
    try:
        version = Version(found)
    except InvalidVersion:
        return Row(name, found, wanted, 'not in range', advice)
    # a local label (2.13.0+cu130) does not take a version out of range
    public = Version(version.public)
    status = 'ok'
    for s in spec:
        if s.contains(public, prereleases=True):
            continue
        if s.operator in ('>=', '>'):
            status = 'too old'
        elif s.operator in ('<', '<='):
            status = 'too new'
        elif s.operator == '==' and '*' not in s.version:
            status = 'too old' if public < Version(s.version) else 'too new'
        else:
            status = 'not in range'
        break
    if status == 'ok':
        return Row(name, found, wanted or 'any', 'ok')
    return Row(name, found, wanted, status, advice)


def installed_version(package: Package) -> Optional[str]:
    """The version of the first installed distribution of ``package``."""
    for dist in package.dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def try_import(module: str) -> Optional[str]:
    """None when ``module`` imports, else the error in one line."""
    try:
        importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure counts
        return f'{type(exc).__name__}: {exc}'.splitlines()[0][:120]
    return None


def mmcv_ops() -> Optional[str]:
    """None when mmcv's compiled ops import, else why not."""
    return try_import('mmcv.ops')


ADVICE = {
    'torch': 'pip install "torch{}" torchvision (the build for your CUDA: '
    'see pytorch.org)',
    'mmcv': 'mim install "mmcv{}" (prebuilt), or build it: '
    'MMCV_WITH_OPS=1 pip install --no-build-isolation "mmcv{}"',
}


def check(transfer: bool = False, pinned: Optional[Dict[str, str]] = None,
          ranges: Optional[Dict[str, str]] = None) -> List[Row]:
    """Check the running environment.

    Args:
        transfer (bool): The transfer stack (mmcv's ops, mmdet, mmseg) is
            required, not only reported.
        pinned (dict, optional): ``{name: '==version'}`` that the found
            versions must equal (requirements/pinned.txt).
        ranges (dict, optional): The supported ranges; default:
            :func:`supported_ranges`.

    Returns:
        list[Row]: One row per package, then mmcv's ops, hclmm and CUDA.
    """
    ranges = supported_ranges() if ranges is None else ranges
    rows = [
        check_version('python', platform.python_version(), python_range(),
                      'use a Python in this range')
    ]
    for package in PACKAGES:
        wanted = ranges.get(package.name, '')
        if pinned is not None and package.name in pinned:
            wanted = pinned[package.name]
        advice = ADVICE.get(package.name, '').format(wanted, wanted)
        if pinned is not None:
            advice = 'bash tools/setup_env.sh (make setup) restores the pins'
        found = installed_version(package)
        row = check_version(package.name, found, wanted, advice)
        if pinned is not None and package.name == 'torch' and found and \
                '+cpu' in found:
            row = row._replace(
                status='not the pinned build',
                advice='a +cpu torch cannot import the registry\'s '
                'torchvision; bash tools/setup_env.sh installs the default '
                'build')
        if found is not None and row.status == 'ok':
            error = try_import(package.module)
            if error:
                row = row._replace(status='broken', advice=error)
        if row.status == 'missing' and package.transfer and not transfer:
            row = row._replace(status='optional',
                               advice=f'for transfer: {row.advice}')
        rows.append(row)
    rows.append(_ops_row(transfer))
    rows.append(_hclmm_row())
    rows.append(_cuda_row())
    return rows


def _ops_row(transfer: bool) -> Row:
    if installed_version(PACKAGES[2]) is None:
        return Row('mmcv ops', '-', 'transfer', 'optional', '')
    error = mmcv_ops()
    if error is None:
        return Row('mmcv ops', 'compiled', 'transfer', 'ok')
    advice = ('mmdet/mmseg need them: MMCV_WITH_OPS=1 pip install '
              '--no-build-isolation "mmcv==<version>" (or make setup)')
    return Row('mmcv ops', 'not compiled', 'transfer',
               'missing' if transfer else 'optional', advice)


def _hclmm_row() -> Row:
    try:
        hclmm = importlib.import_module('hclmm')
    except Exception as exc:  # noqa: BLE001
        return Row('hclmm', '-', '', 'broken',
                   f'{type(exc).__name__}: {exc}; pip install -e .')
    mim = osp.join(osp.dirname(hclmm.__file__), '.mim', 'configs')
    if not osp.isdir(mim):
        return Row('hclmm', hclmm.__version__, 'hclmm:: configs', 'info',
                   'no hclmm/.mim: reinstall (pip install -e .) for '
                   'hclmm:: configs and mim')
    return Row('hclmm', hclmm.__version__, 'hclmm:: configs', 'ok')


def _cuda_row() -> Row:
    import torch
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return Row('CUDA', f'{torch.version.cuda} ({name})', '', 'info')
    return Row('CUDA', 'not available', '', 'info',
               'CPU training works; --amp and the 8-GPU configs need CUDA')


def report(rows: List[Row]) -> str:
    """The rows as a table, then the problems and what to change."""
    lines = [f'{"package":<15} {"found":<22} {"supported":<18} status']
    for r in rows:
        lines.append(f'{r.name:<15} {r.found[:22]:<22} {r.wanted[:18]:<18} '
                     f'{r.status}')
    notes = [r for r in rows if r.advice]
    if notes:
        lines.append('')
    for r in notes:
        mark = 'change' if r.fails else 'note'
        lines.append(f'{mark} {r.name}: {r.advice}')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument(
        '--transfer', action='store_true',
        help='require the transfer stack too (mmcv ops, mmdet, mmseg)')
    parser.add_argument(
        '--pinned', action='store_true',
        help='require the exact versions of requirements/pinned.txt')
    args = parser.parse_args(argv)
    pinned = None
    if args.pinned:
        pinned = {
            k: v
            for k, v in read_requirements(
                [osp.join(REQUIREMENTS, 'pinned.txt')]).items()
        }
    rows = check(transfer=args.transfer, pinned=pinned)
    print(report(rows))
    problems = [r.name for r in rows if r.fails]
    level = 'with transfer' if args.transfer else 'pretraining'
    if args.pinned:
        level += ', pinned'
    if problems:
        print(f'[check_env] FAILED ({level}): {", ".join(problems)} '
              'do not fit; see "change" above', file=sys.stderr)
        return 1
    print(f'[check_env] OK ({level}): this environment fits hclmm')
    return 0


if __name__ == '__main__':
    sys.exit(main())
