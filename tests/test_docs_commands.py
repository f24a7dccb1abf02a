"""Every command the docs show runs against the real tools.

The ```bash blocks of README.md and docs/*.md are read; each invocation of
a script under ``tools/`` or ``benchmarks/`` is collected with the
``--options`` the docs pass to it. Checked:

* the script exists;
* ``python TOOL --help`` exits 0 (once per distinct Python tool, in a
  subprocess, the real tool);
* every ``--option`` the docs pass to a Python tool is in its ``--help``;
* every config path named in a command (``configs/...py``, also after
  ``=``) exists.

Shell scripts (``dist_train.sh``, the benchmark launchers) are checked for
existence only; the options given to ``tools/dist_train.sh``,
``slurm_train.sh``, ``dist_test.sh`` and ``slurm_test.sh`` are checked
against ``tools/train.py`` and ``tools/test.py``, which receive them. ``--cfg-options`` model keys are checked by
``tests/configs/test_docs_options.py``.
"""
import glob
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from hclmm_test_utils import REPO

BLOCK = re.compile(r'^```(?:bash|shell|sh|console)[ \t]*\n(.*?)^```',
                   re.S | re.M)
# tools/x.py, benchmarks/x.py, or a clone's path ending in /tools/x.py
TOOL = re.compile(r'(?:^|/)((?:tools|benchmarks)/[\w/.-]+\.(?:py|sh))$')
# the launchers hand their options to these tools
FORWARD = {
    'tools/dist_train.sh': 'tools/train.py',
    'tools/slurm_train.sh': 'tools/train.py',
    'tools/dist_test.sh': 'tools/test.py',
    'tools/slurm_test.sh': 'tools/test.py',
}
CONFIG = re.compile(r'(?:^|=)((?:configs|projects/[\w.-]+/configs)/'
                    r'[\w/.,()+-]+\.py)$')
ASSIGN = re.compile(r'^([A-Za-z_]\w*)=(\S*)$')
# a placeholder, not a path: CONFIG.py, NAME, ..., a glob
PLACEHOLDER = re.compile(r'[A-Z]{3,}|\.\.\.|[*{}<>]')


def _doc_files():
    return [osp.join(REPO, 'README.md')] + sorted(
        glob.glob(osp.join(REPO, 'docs', '*.md')))


def _commands(text):
    """The shell commands of the bash blocks, continuation lines joined,
    split at ``&&``, ``||``, ``;`` and pipes."""
    for block in BLOCK.findall(text):
        block = re.sub(r'\\\n', ' ', block)
        vars_ = {}
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            for part in re.split(r'&&|\|\||;| \| ', line):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:  # an unbalanced quote in an example
                    words = part.split('#')[0].split()
                words = [w.strip('[]') for w in words]
                # VAR=value before a command, or on its own line
                while words and ASSIGN.match(words[0]):
                    name, value = ASSIGN.match(words[0]).groups()
                    vars_[name] = value.strip('"\'')
                    words = words[1:]
                words = [re.sub(r'\$\{?(\w+)\}?',
                                lambda m: vars_.get(m.group(1), m.group(0)),
                                w) for w in words]
                if words:
                    yield words


def _invocations():
    """(doc, tool, options, configs) for every tool invocation."""
    found = []
    for path in _doc_files():
        rel = osp.relpath(path, REPO)
        with open(path) as f:
            text = f.read()
        for words in _commands(text):
            configs = sorted({
                m.group(1)
                for w in words for m in [CONFIG.search(w)]
                if m and not PLACEHOLDER.search(m.group(1))
            })
            for i, word in enumerate(words):
                m = TOOL.search(word)
                if not m or 'configs/' in word:
                    continue
                options = sorted({
                    w.split('=')[0]
                    for w in words[i + 1:] if re.match(r'--[\w-]+', w)
                })
                found.append((rel, m.group(1), tuple(options),
                              tuple(configs)))
                if m.group(1) in FORWARD and options:
                    found.append((rel, FORWARD[m.group(1)], tuple(options),
                                  ()))
                break
            else:
                if configs:
                    found.append((rel, None, (), tuple(configs)))
    return found


INVOCATIONS = _invocations()
PY_TOOLS = sorted({t for _, t, _, _ in INVOCATIONS if t and t.endswith('.py')})


def _help(tool):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    try:
        return subprocess.run([sys.executable, tool, '--help'], cwd=REPO,
                              env=env, capture_output=True, text=True,
                              timeout=1200)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, -1, '', 'timed out')


@pytest.fixture(scope='module')
def helps():
    """``--help`` of every distinct Python tool, run side by side (the
    imports, not the tools, take the time)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(PY_TOOLS, pool.map(_help, PY_TOOLS)))


def test_the_docs_have_commands():
    tools = {t for _, t, _, _ in INVOCATIONS}
    assert {'tools/train.py', 'tools/test.py',
            'tools/analysis_tools/zero_shot.py',
            'tools/analysis_tools/robustness.py',
            'tools/benchmarks/transfer.py',
            'tools/dist_train.sh'} <= tools


@pytest.mark.parametrize('tool', sorted({
    t for _, t, _, _ in INVOCATIONS if t}))
def test_tool_exists(tool):
    assert osp.isfile(osp.join(REPO, tool)), (
        f'the docs run {tool}, which does not exist; used in ' + ', '.join(
            sorted({d for d, t, _, _ in INVOCATIONS if t == tool})))


@pytest.mark.parametrize('tool', PY_TOOLS)
def test_tool_help_runs(helps, tool):
    proc = helps[tool]
    assert proc.returncode == 0, (
        f'python {tool} --help failed ({proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')


@pytest.mark.parametrize('tool', PY_TOOLS)
def test_documented_options_exist(helps, tool):
    assert helps[tool].returncode == 0, f'python {tool} --help failed'
    text = helps[tool].stdout
    missing = sorted({
        f'{opt} ({doc})'
        for doc, t, options, _ in INVOCATIONS if t == tool
        for opt in options
        if not re.search(r'(?<![\w-])' + re.escape(opt) + r'(?![\w-])', text)
    })
    assert not missing, f'{tool} --help does not list: {missing}'


@pytest.mark.parametrize('config', sorted({
    c for _, _, _, configs in INVOCATIONS for c in configs}))
def test_documented_config_exists(config):
    assert osp.isfile(osp.join(REPO, config)), (
        f'the docs name {config}, which does not exist; in ' + ', '.join(
            sorted({d for d, _, _, cs in INVOCATIONS if config in cs})))


def test_a_wrong_option_is_caught():
    text = '```bash\npython tools/train.py configs/x.py --no-such-flag\n```'
    words = list(_commands(text))
    assert words == [['python', 'tools/train.py', 'configs/x.py',
                      '--no-such-flag']]
