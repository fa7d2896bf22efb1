"""botocore's own paginators over in-memory fakes: ``get_paginator(name)`` on a fake returns the
:class:`botocore.paginate.Paginator` a real client builds for that operation (its token names,
``PageSize`` limit key and repeated-token check), driving the fake's method instead of AWS."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import ServiceModel
from botocore.paginate import Paginator


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _model(service: str) -> ServiceModel:
    return _session().get_service_model(service)


def paginator(
    service: str, operation: str, method: Callable[..., dict[str, Any]]
) -> Paginator[dict[str, Any]]:
    """The paginator of ``service``'s ``operation`` (``list_inference_profiles``) calling ``method``."""
    model = _model(service)
    name = model.operation_names[[_snake(n) for n in model.operation_names].index(operation)]
    config = _session().get_paginator_model(service).get_paginator(name)
    # botocore-stubs name ``method`` a str; botocore calls it (a client's bound method).
    return Paginator(method, config, model.operation_model(name))  # type: ignore[arg-type]


def _snake(name: str) -> str:
    return str(xform_name(name))
