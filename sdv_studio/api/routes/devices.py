"""GET /api/devices/discover and GET /api/devices/{deviceId}/metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from sdv_studio.api.context import ApiContext, context
from sdv_studio.api.errors import ApiError, field_named
from sdv_studio.api.models import DeviceMetrics, DiscoverResponse, ErrorBody
from sdv_studio.core.defaults import PROBE_TIMEOUT
from sdv_studio.core.deploy.agent_link.session import agent_answer, deploy_errors
from sdv_studio.core.deploy.targets import UnknownDevice, resolve_device
from sdv_studio.core.discovery import ScanOptions, parse_cidrs, scan

router = APIRouter(prefix="/api/devices", tags=["devices"])
MAX_CIDRS = 16
ERRORS = {status: {"model": ErrorBody} for status in (404, 422, 502, 503, 504)}


@router.get("/discover", response_model=DiscoverResponse, responses={422: ERRORS[422], 503: ERRORS[503]},
            summary="Discover devices: mDNS, an IP sweep and an SSH capability probe")
async def discover(
    ctx: Annotated[ApiContext, Depends(context)],
    cidr: Annotated[list[str] | None, Query(description="IPv4 range to sweep (repeatable); default: this "
                                             "machine's own subnets, each at most a /22")] = None,
    mdns: Annotated[bool, Query(description="browse mDNS")] = True,
    sweep: Annotated[bool, Query(description="sweep address ranges for SSH")] = True,
    port: Annotated[int, Query(ge=1, le=65535, description="SSH port to sweep for")] = 22,
    timeout: Annotated[float, Query(gt=0, le=120, description="seconds per device probe")] = PROBE_TIMEOUT,
) -> JSONResponse:
    cidrs = cidr or []
    if len(cidrs) > MAX_CIDRS:
        raise ApiError(422, "invalid request", [f"cidr: at most {MAX_CIDRS} ranges"])
    with field_named("--cidr", "cidr"):
        parse_cidrs(cidrs)  # checked even when not sweeping: a bad range is a mistake either way
    settings = ctx.settings
    options = ScanOptions(cidrs=cidrs or None, use_sweep=sweep, use_mdns=mdns, port=port,
                          user=settings.connection.user, key_file=settings.connection.key_file,
                          trust=settings.trust, probe_timeout=timeout)
    devices = await scan(options, ctx.inventory)
    return JSONResponse({"devices": [d.to_json_dict() for d in devices]})


@router.get("/{device_id}/metrics", response_model=DeviceMetrics, responses={
    404: ERRORS[404], 502: ERRORS[502], 503: ERRORS[503], 504: ERRORS[504]},
    summary="CPU, memory, disk and each app's usage, read by the device agent")
async def metrics(
    ctx: Annotated[ApiContext, Depends(context)],
    device_id: Annotated[str, Path(max_length=300, description="a saved device's id, a discovered device's id "
                                   "(its address), [USER@]HOST[:PORT], or 'local' for this computer")],
) -> JSONResponse:
    settings = ctx.settings
    try:
        with field_named("--device", "deviceId"):
            device = resolve_device(device_id, settings.connection, ctx.inventory)
    except UnknownDevice as exc:  # a path that names no device
        raise ApiError(404, f"no device {device_id!r}", exc.problems) from exc
    timeout = settings.device_timeout
    try:
        # One bound on the whole exchange: connect, agent upload when missing, the sample itself.
        async with asyncio.timeout(timeout * 3), deploy_errors(device.target):
            answer = await agent_answer(device.target, settings.trust, timeout, "metrics")
    except TimeoutError as exc:
        raise ApiError(504, f"{device.device_id}: the device did not answer in time",
                       [f"{device.target.label}: no answer in {timeout * 3:g}s"]) from exc
    answer.pop("ok", None)
    return JSONResponse(DeviceMetrics.model_validate({**answer, "deviceId": device.device_id}).to_json_dict())
