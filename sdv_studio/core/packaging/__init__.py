"""The app packager: sources -> validated, reproducible, offline-installable packages."""

from sdv_studio.core.packaging.builder import (
    BuildFailed,
    BuildOptions,
    BuildResult,
    PackageError,
    build_from_request,
    build_package,
    manifest_of,
)
from sdv_studio.core.packaging.store import PackageStore, StoredPackage, is_package_id

__all__ = [
    "BuildFailed",
    "BuildOptions",
    "BuildResult",
    "PackageError",
    "PackageStore",
    "StoredPackage",
    "build_from_request",
    "build_package",
    "is_package_id",
    "manifest_of",
]
