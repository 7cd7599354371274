"""Python client of the μNAS coordinator (docs/python.md).

    from unas_client import Client
    client = Client("127.0.0.1:50051")
    job = client.submit("configs/fashion_mnist_quick.textproto")
    for event in client.watch(job):
        print(event["progress"]["evaluations_done"])
    front = client.pareto(job, frame=True)
"""

from .client import Client
from .errors import (AuthenticationError, FailedPreconditionError, InvalidArgumentError,
                     NotFoundError, SpecError, UnasError, UnavailableError)
from .export import ExportWarning
from .spec import load_spec

__all__ = [
    "AuthenticationError", "Client", "ExportWarning", "FailedPreconditionError",
    "InvalidArgumentError", "NotFoundError", "SpecError", "UnasError", "UnavailableError",
    "load_spec",
]
