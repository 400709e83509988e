"""Regenerate the gRPC stubs in this folder (a developer tool, not used at run time).

The protocol definitions are taken from the descriptors the real clients were built with, so the
broker speaks exactly what they send: kuksa.val.v1/v2 from the installed kuksa-client, and
sdv.databroker.v1 from a velocitas-sdk wheel or install (its ``velocitas_sdk/proto`` folder).

    python -m sdv_studio.broker.proto.regenerate PATH/TO/velocitas_sdk/proto

Imports are made package-relative and the runtime-version guard is dropped so one stub set serves
every device Python: a device venv may hold an older protobuf than the workstation (down to 5.29,
the last for Python 3.8; see broker_bundle.FLOORS). tests/broker/targets.py runs the kuksa-client
tests against the broker on that oldest pair and on Python 3.9 and 3.13 devices.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2, timestamp_pb2
from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
KUKSA_MODULES = ["kuksa.val.v1.types_pb2", "kuksa.val.v1.val_pb2", "kuksa.val.v2.types_pb2", "kuksa.val.v2.val_pb2"]
VELOCITAS_FILES = ["types_pb2.py", "broker_pb2.py"]


def _serialized_from_source(path: Path) -> bytes:
    """The bytes passed to AddSerializedFile in a generated module, without importing it."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile":
            return ast.literal_eval(node.args[0])
    raise SystemExit(f"{path}: no serialized descriptor found")


def _descriptor_set(velocitas_proto: Path) -> descriptor_pb2.FileDescriptorSet:
    files = [timestamp_pb2.DESCRIPTOR.serialized_pb]
    files += [importlib.import_module(name).DESCRIPTOR.serialized_pb for name in KUKSA_MODULES]
    files += [_serialized_from_source(velocitas_proto / name) for name in VELOCITAS_FILES]
    fds = descriptor_pb2.FileDescriptorSet()
    for blob in files:
        fds.file.add().ParseFromString(blob)
    return fds


def _fix(path: Path) -> None:
    text = path.read_text()
    text = re.sub(r"^from (kuksa\.val\.v\d|sdv\.databroker\.v1) import", "from . import", text, flags=re.M)
    text = re.sub(r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)\n", "", text)
    text = text.replace("from google.protobuf import runtime_version as _runtime_version\n", "")
    # The stubs only need the registered-method call form, present since grpcio 1.62.
    text = re.sub(r"GRPC_GENERATED_VERSION = '[^']*'", "GRPC_GENERATED_VERSION = '1.62.0'", text)
    if path.suffix == ".pyi":  # fields named float/bool shadow the builtins inside the class
        text = re.sub(r"(?<=: )(float|bool)\b|(?<=\[)(float|bool)(?=[],])", r"_builtins.\1\2", text)
        text = "import builtins as _builtins\n" + text
    if path.name.endswith("_grpc.py"):  # generated untyped: keep strict mypy runs on our code only
        text = "# mypy: ignore-errors\n" + text
    path.write_text(text)


def main(velocitas_proto: str) -> None:
    fds = _descriptor_set(Path(velocitas_proto))
    targets = [f.name for f in fds.file if not f.name.startswith("google/")]
    with tempfile.TemporaryDirectory() as tmp:
        set_path = Path(tmp) / "set.pb"
        set_path.write_bytes(fds.SerializeToString())
        args = ["protoc", f"--descriptor_set_in={set_path}", f"--python_out={HERE}",
                f"--grpc_python_out={HERE}", f"--pyi_out={HERE}", *targets]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
    for target in targets:
        folder = HERE / Path(target).parent
        for parent in [folder, *folder.relative_to(HERE).parents]:
            init = HERE / parent / "__init__.py"
            if not init.exists():
                init.write_text("")
        for generated in folder.glob("*_pb2*.py*"):
            _fix(generated)


if __name__ == "__main__":
    main(sys.argv[1])
