"""POST /api/apps/package and the download behind its ``downloadUrl``."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from sdv_studio.api.context import ApiContext, context
from sdv_studio.api.errors import ApiError
from sdv_studio.api.models import ErrorBody, PackageCreated
from sdv_studio.core.packaging.builder import build_from_request
from sdv_studio.core.packaging.stages import BuildProgress
from sdv_studio.models.package import PackageRequest
from sdv_studio.models.sizes import human_size

router = APIRouter(tags=["packages"])
log = logging.getLogger(__name__)


def _log_progress(event: BuildProgress) -> None:
    log.debug("%s: %s", event.stage.key, event.message)


@router.post("/api/apps/package", status_code=200, response_model=PackageCreated,
             responses={status: {"model": ErrorBody} for status in (422, 502)},
             summary="Build a deployable package from the app's code")
async def create_package(body: PackageRequest, request: Request,
                         ctx: Annotated[ApiContext, Depends(context)]) -> JSONResponse:
    async with ctx.builds:
        # Builds are blocking (archive writing, pip): a worker thread keeps the server answering.
        result = await asyncio.to_thread(build_from_request, body, _log_progress, ctx.store)
    stored = result.stored
    url = str(request.url_for("download_package", package_id=stored.package_id))
    created = PackageCreated(
        package_id=stored.package_id, download_url=url, checksum=stored.checksum, size=human_size(stored.size),
        size_bytes=stored.size, created_at=stored.created_at, name=stored.name, version=stored.version,
        notes=result.notes,
    )
    # 200, not 201: docs/interface.md ("Status codes") says why.
    return JSONResponse(created.to_json_dict(), 200, headers={"Location": url})


@router.get("/api/packages/{package_id}.tar.gz", name="download_package", response_class=FileResponse,
            responses={200: {"content": {"application/gzip": {}}}, 404: {"model": ErrorBody}},
            summary="Download a package built on this server")
async def download_package(package_id: str, ctx: Annotated[ApiContext, Depends(context)]) -> FileResponse:
    stored = ctx.store.get(package_id)
    if stored is None:
        raise ApiError(404, f"no package {package_id!r}", [f"packageId: no package {package_id!r} on this server"])
    return FileResponse(stored.path, media_type="application/gzip",
                        filename=f"{stored.name}-{stored.version}.tar.gz",
                        headers={"ETag": f'"{stored.checksum.removeprefix("sha256:")}"'})
