"""POST /api/deployments (200, see docs/interface.md "Status codes"; it runs in the background), GET one or
all, and cancel."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from sdv_studio.api.context import ApiContext, context
from sdv_studio.api.errors import ApiError, field_named
from sdv_studio.api.models import DeploymentList, ErrorBody
from sdv_studio.core.deploy import DeployOptions, start_deployment
from sdv_studio.core.deploy.kuksa_wiring import broker_catalogue
from sdv_studio.core.deploy.package_file import PackageUnreadable, open_package
from sdv_studio.core.deploy.schedule import API_FIELDS, CATALOGUE_ENTRY, check_schedule, parse_schedule
from sdv_studio.core.deploy.targets import resolve_devices
from sdv_studio.core.deploy.waves import WavePlan, parse_max_failed, parse_waves
from sdv_studio.core.errors import InvalidInput
from sdv_studio.models.deployment import Deployment, DeploymentRequest

router = APIRouter(prefix="/api/deployments", tags=["deployments"])
_ERR = {"model": ErrorBody}


def _not_found(deployment_id: str) -> ApiError:
    return ApiError(404, f"no deployment {deployment_id!r}", [f"deploymentId: no deployment {deployment_id!r}"])


@router.post("", status_code=200, response_model=Deployment, responses={404: _ERR, 409: _ERR, 422: _ERR, 503: _ERR},
             summary="Start deploying a package to devices; answers at once, the deployment runs in the background")
async def create_deployment(body: DeploymentRequest, request: Request,
                            ctx: Annotated[ApiContext, Depends(context)]) -> JSONResponse:
    plan = _wave_plan(body)
    schedule = parse_schedule(body.when, body.idle_condition, body.at, API_FIELDS)
    stored = ctx.store.get(body.package_id)
    if stored is None:
        raise ApiError(404, f"no package {body.package_id!r}", [
            f"packageId: no package {body.package_id!r} on this server; build it with POST /api/apps/package"])
    try:
        # Reading and verifying the archive is blocking work.
        package = await asyncio.to_thread(open_package, str(stored.path), ctx.store)
    except PackageUnreadable as exc:
        raise ApiError(409, "the stored package is damaged; build it again", [str(exc)]) from exc
    if schedule is not None:
        catalogue = broker_catalogue(package.manifest, package.entries.get(CATALOGUE_ENTRY))[0]
        problems = check_schedule(schedule, package.manifest, catalogue, API_FIELDS)
        if problems:
            raise InvalidInput(problems)
    settings = ctx.settings
    with field_named("--device", "devices"):
        devices = resolve_devices(body.devices, settings.connection, ctx.inventory)
    hot_swap = None if body.deployment_mode is None else body.deployment_mode == "hot-swap"
    options = DeployOptions(hot_swap=hot_swap, rollback=body.rollback_enabled,
                            broker=body.broker, broker_token=body.broker_token,
                            broker_ca=body.broker_ca.encode() if body.broker_ca else None,
                            grace_seconds=settings.grace_seconds, connect_timeout=settings.device_timeout,
                            force=body.force, schedule=schedule)
    run = start_deployment(package, devices, settings.trust, options, records=ctx.deployments.records,
                           concurrency=settings.concurrency, plan=plan)
    ctx.deployments.add(run)
    url = str(request.url_for("get_deployment", deployment_id=run.deployment_id))
    return JSONResponse(run.deployment.to_json_dict(), 200, headers={"Location": url})


def _wave_plan(body: DeploymentRequest) -> WavePlan | None:
    """The body's waves, checked like the CLI's --waves (InvalidInput: a 422 naming the field)."""
    if body.waves is None:
        given = [field for name, field in (("max_failed", "maxFailed"), ("pause_between", "pauseBetween"),
                                          ("rollback_wave", "rollbackWave")) if name in body.model_fields_set]
        if given:
            raise InvalidInput([f"{field}: only with waves" for field in given])
        return None
    return WavePlan(parse_waves(body.waves, "waves"), parse_max_failed(body.max_failed, "maxFailed"),
                    body.pause_between, body.rollback_wave)


@router.get("", response_model=DeploymentList, summary="Deployment history, newest first")
async def list_deployments(ctx: Annotated[ApiContext, Depends(context)],
                           limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSONResponse:
    records = await asyncio.to_thread(ctx.deployments.records.all)
    live = {run.deployment_id: run.deployment for run in ctx.deployments.live()}
    found = [live.get(r.deployment_id, r) for r in records[:limit]]
    return JSONResponse({"deployments": [d.to_json_dict() for d in found]})


@router.get("/{deployment_id}", name="get_deployment", response_model=Deployment, responses={404: _ERR},
            summary="One deployment: live while it runs, from its record after")
async def get_deployment(deployment_id: str, ctx: Annotated[ApiContext, Depends(context)]) -> Response:
    try:
        return Response(ctx.deployments.snapshot(deployment_id), media_type="application/json")
    except (KeyError, ValueError) as exc:  # ValueError: a record on disk that no longer parses
        raise _not_found(deployment_id) from exc


@router.post("/{deployment_id}/cancel", status_code=202, response_model=Deployment,
             responses={404: _ERR, 409: _ERR},
             summary="Cancel a running deployment; devices already done keep their result")
async def cancel_deployment(deployment_id: str, ctx: Annotated[ApiContext, Depends(context)]) -> JSONResponse:
    run = ctx.deployments.run(deployment_id)
    if run is None or run.deployment.status not in ("pending", "in-progress"):
        try:
            ctx.deployments.load(deployment_id)
        except (KeyError, ValueError) as exc:
            raise _not_found(deployment_id) from exc
        raise ApiError(409, f"{deployment_id} is not running on this server", [
            f"deploymentId: {deployment_id} has finished or was started elsewhere"])
    run.cancel()
    return JSONResponse(run.deployment.to_json_dict(), 202)
