"""The package list, which pyproject.toml cannot hold: found packages plus two mapped folders.

The repository keeps resources/ (icons, VSS catalogues) and templates/ (app templates) at its top
level; they install as sdv_studio.resources and sdv_studio.templates, so wheels, editable installs
and the frozen bundle all read them through importlib.resources (sdv_studio.shipped).
"""

from setuptools import find_packages, setup

MAPPED = {"sdv_studio.resources": "resources", "sdv_studio.templates": "templates"}

setup(packages=[*find_packages(include=["sdv_studio*"]), *MAPPED], package_dir=MAPPED)
