"""``sdv-studio broker``: run the embedded fallback databroker in the foreground."""

from __future__ import annotations

import argparse

from sdv_studio.core.errors import InvalidInput, OperationFailed


def register(sub: argparse._SubParsersAction) -> None:
    from sdv_studio.broker import options

    parser = sub.add_parser(
        "broker",
        help="run the embedded fallback databroker in the foreground",
        description="Serve kuksa.val.v2, kuksa.val.v1 and sdv.databroker.v1 (Velocitas) on one gRPC port, "
        "plus MQTT, until SIGINT/SIGTERM. Bench mode (on unless --no-mock-actuators): an actuator's new target "
        "becomes its current value after --mock-delay, unless a provider has claimed the actuator.",
    )
    options.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sdv_studio.broker import bench, options, runner, vss

    parsed, problems = options.options_from_args(args)
    if parsed is None:
        raise InvalidInput(problems)
    try:
        runner.run(parsed)
    except vss.VssError as exc:
        raise InvalidInput(f"--vss: {exc}") from exc
    except bench.SignalsError as exc:
        raise InvalidInput([f"--signals: {problem}" for problem in exc.problems]) from exc
    except (OSError, RuntimeError) as exc:
        raise OperationFailed(f"broker: {exc}") from exc
    return 0
