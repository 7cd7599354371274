"""Finds and imports the generated protobuf/gRPC modules (the `unas.v1` package).

The build generates them into <build>/python (python/CMakeLists.txt); they are
not in the source tree, so they always match the .proto files of the build.
$UNAS_PROTO_PYTHON names that folder; without it the client looks in the
repository's build/ folder, where the documented build puts them.
"""

import importlib
import os
import sys

_ENV = "UNAS_PROTO_PYTHON"


def _candidates():
    if os.environ.get(_ENV):
        yield os.environ[_ENV]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    yield os.path.join(repo, "build", "python")


def _find():
    tried = []
    for folder in _candidates():
        if os.path.isfile(os.path.join(folder, "unas", "v1", "job_service_pb2_grpc.py")):
            return folder
        tried.append(folder)
    raise ImportError(
        "unas_client: the generated stubs (unas/v1/job_service_pb2_grpc.py) are not in "
        + " or ".join(tried)
        + ": build them with `cmake --build build --target unas_python_stubs`, or set "
        + _ENV
        + " to the folder holding unas/v1/"
    )


_folder = _find()
if _folder not in sys.path:
    sys.path.insert(0, _folder)

architecture_pb2 = importlib.import_module("unas.v1.architecture_pb2")
evaluation_pb2 = importlib.import_module("unas.v1.evaluation_pb2")
job_pb2 = importlib.import_module("unas.v1.job_pb2")
metrics_pb2 = importlib.import_module("unas.v1.metrics_pb2")
job_spec_pb2 = importlib.import_module("unas.v1.job_spec_pb2")
job_service_pb2 = importlib.import_module("unas.v1.job_service_pb2")
job_service_pb2_grpc = importlib.import_module("unas.v1.job_service_pb2_grpc")
