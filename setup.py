from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open('hclmm/version.py', encoding='utf-8') as f:
        exec(compile(f.read(), 'hclmm/version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(path):
    reqs = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-r'):
                reqs.append(line)
    return reqs


setup(
    name='hclmm',
    version=get_version(),
    description='Hyperbolic contrastive learning of scenes and objects, '
    'an OpenMMLab plug-in',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks', 'docs')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': parse_requirements('requirements/tests.txt'),
        'mim': parse_requirements('requirements/mminstall.txt') +
        parse_requirements('requirements/transfer.txt'),
        'transfer': parse_requirements('requirements/transfer.txt'),
        'all': parse_requirements('requirements/mminstall.txt') +
        parse_requirements('requirements/transfer.txt') +
        parse_requirements('requirements/tests.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
