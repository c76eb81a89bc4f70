"""ModelLens: a log writer (``modellens``) and a TensorBoard plugin (``modellens.tb_plugin``).

Building the package also builds the dashboards: ``frontend/`` (TypeScript) is bundled by
esbuild into ``tb_plugin/static/`` so that the bundle ships as package data.
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.join(HERE, "frontend")
BUNDLE = os.path.join(HERE, "tb_plugin", "static", "index.js")


def build_frontend() -> None:
    """Runs ``npm ci`` (when needed) and the esbuild script; keeps an existing bundle without Node."""
    if not os.path.isdir(FRONTEND):
        return  # building from an sdist that already holds the bundle
    npm = shutil.which("npm")
    if npm is None:
        if os.path.exists(BUNDLE):
            print("modellens: npm not found; keeping the existing frontend bundle")
            return
        raise SystemExit(
            "modellens: building the dashboards needs Node.js 18+ and npm (e.g. apt-get install "
            "nodejs npm), and no prebuilt bundle exists at tb_plugin/static/index.js"
        )
    if not os.path.isdir(os.path.join(FRONTEND, "node_modules")):
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "--silent", "build"], cwd=FRONTEND, check=True)


def packages() -> list[str]:
    """``modellens``, its kind packages (every folder of ``writer/`` with an ``__init__.py``,
    such as ``distributions``) and ``modellens.tb_plugin``: a new kind package is never left out."""
    writer = os.path.join(HERE, "writer")
    kinds = sorted(name for name in os.listdir(writer) if os.path.isfile(os.path.join(writer, name, "__init__.py")))
    return ["modellens", *(f"modellens.{name}" for name in kinds), "modellens.tb_plugin"]


class BuildPyWithFrontend(build_py):
    def run(self):
        build_frontend()
        super().run()


TEST = [
    "pytest>=7",
    "playwright>=1.40",
    "scikit-learn>=1.2",
    "tqdm>=4.60",
    "torch>=2.0",
    "tensorboardX>=2.6",
    "tensorflow-cpu>=2.16",
    "transformers>=5",
    "accelerate>=1.0",  # what transformers.Trainer needs, for the attention callback's test
    "matplotlib>=3.5",
    "ruff>=0.6",
]

setup(
    name="modellens",
    version="0.1.0",
    description="See inside the models you train: confusion matrices and more, in TensorBoard",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=packages(),
    package_dir={"modellens": "writer", "modellens.tb_plugin": "tb_plugin"},
    package_data={"modellens.tb_plugin": ["static/*.js", "static/*.css"]},
    install_requires=["numpy>=1.21", "protobuf>=3.20", "tensorboard>=2.12", "google-crc32c>=1.5"],
    extras_require={
        "torch": ["torch>=2.0"],
        "keras": ["tensorflow-cpu>=2.16", "keras>=3"],
        # transformers imports torchvision when it is installed: keep torchvision out (DESIGN.md)
        "transformers": ["torch>=2.0", "transformers>=5"],
        "demo": [
            "scikit-learn>=1.2",
            "tqdm>=4.60",
            "torch>=2.0",
            "tensorflow-cpu>=2.16",
            "keras>=3",
            "transformers>=5",
        ],
        "test": TEST,
        # bench/: the test extra and bertviz, the peer of the Attention view's benchmarks
        "bench": [*TEST, "bertviz==1.4.1"],
    },
    entry_points={"tensorboard_plugins": ["modellens = modellens.tb_plugin.loader:Loader"]},
    cmdclass={"build_py": BuildPyWithFrontend},
    zip_safe=False,
)
