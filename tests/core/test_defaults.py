"""The faces start from core.defaults, and the broker's own copy of the ports agrees with it."""

from __future__ import annotations

import argparse

from sdv_studio.api.settings import ApiSettings
from sdv_studio.broker import server
from sdv_studio.broker.options import add_arguments
from sdv_studio.cli import build_parser
from sdv_studio.core import defaults
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.gui.adapters.deployer import CoreDeployer
from sdv_studio.gui.adapters.discovery import Approvals


def test_the_fallback_broker_listens_where_the_engine_wires_apps() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (server.DATABROKER_PORT, server.MQTT_PORT) == (defaults.DATABROKER_PORT, defaults.MQTT_PORT)
    assert (args.port, args.mqtt_port) == (defaults.DATABROKER_PORT, defaults.MQTT_PORT)


def test_every_face_gives_a_device_the_same_time_and_deploys_as_many_at_once() -> None:
    parser = build_parser()
    deploy = parser.parse_args(["deploy", "app.tar.gz", "--device", "local"])
    serve = parser.parse_args(["serve"])
    api = ApiSettings(token="t" * 16)
    gui = CoreDeployer(Approvals())
    timeouts = {deploy.timeout, serve.timeout, api.device_timeout, gui.timeout, DeployOptions().connect_timeout}
    assert timeouts == {defaults.DEVICE_TIMEOUT}
    assert {deploy.concurrency, api.concurrency} == {defaults.DEPLOY_CONCURRENCY}
    assert serve.port == defaults.API_PORT
