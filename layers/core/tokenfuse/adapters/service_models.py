"""botocore's service models, loaded once per container and lean: what every botocore session of
tokenfuse reads them through.

botocore parses each JSON data file it needs into ``OrderedDict`` objects and keeps them for the
life of the process: ``endpoints.json`` for the first client (about 7 MB resident), then each
service's ``service-2.json`` (SSM 3.4 MB, Bedrock 2.9 MB, DynamoDB 1.6 MB), two thirds of which
is the API reference's prose (``documentation``), read only to write docstrings. In a Lambda
container that is peak memory and init time paid for nothing.

:class:`LeanJSONFileLoader` is botocore's own extension point for how data files are read
(``Loader(file_loader=...)``): plain dicts (ordered since Python 3.7; botocore only iterates them)
and, in service models, no ``documentation`` text, dropped as the C decoder builds each object.
botocore reads that text with ``.get(..., "")`` to write docstrings; the one place it requires it,
a client context parameter, gets an empty one. Everything a call uses (shapes, members, protocols,
endpoint rules, client context parameters, paginators, waiters, retries) is kept as botocore wrote
it; only ``help(client.some_call)`` loses its text.

:func:`botocore_session` gives every botocore session the same loader, so a session built for
other credentials (an assumed member role) reuses the models already loaded instead of parsing
them again, and the same built-in handlers: botocore registers its ~200 one by one on every
session (each checked for ``**kwargs`` through ``inspect``), about 8 ms; tokenfuse registers them
once and starts each session from a copy (``event_hooks=``, as each client starts from a copy of
its session's).
"""

import copy
import gzip
import json
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import handlers
from botocore.exceptions import DataNotFoundError
from botocore.hooks import EventAliaser, HierarchicalEmitter
from botocore.loaders import JSONFileLoader, Loader

DOCUMENTATION = "documentation"
SERVICE_MODEL = "service-2"
"""The file name (without extension) of a service's API model: the only file whose prose is dropped."""

EXTENSIONS = (".json", ".json.gz")
"""The extensions botocore reads data files with, in its order (plain JSON first)."""


def _without_documentation(node: dict[str, Any]) -> dict[str, Any]:
    """One JSON object of a service model as the C decoder built it, its ``documentation`` text
    dropped (a member that happens to be named ``documentation`` is a mapping, not text: it stays)."""
    if isinstance(node.get(DOCUMENTATION), str):
        del node[DOCUMENTATION]
    return node


def _lean(payload: bytes) -> dict[str, Any]:
    """A service model without the API reference's text. botocore reads that text only to write
    docstrings, with ``.get(..., "")``, except a client context parameter's, which it requires:
    those get an empty one back."""
    model: dict[str, Any] = json.loads(payload, object_hook=_without_documentation)
    for parameter in model.get("clientContextParams", {}).values():
        parameter.setdefault(DOCUMENTATION, "")
    return model


class LeanJSONFileLoader(JSONFileLoader):
    """botocore's JSON data files as plain dicts, service models without their documentation."""

    def load_file(self, file_path: str) -> object:
        """The data of ``file_path`` (without extension), or None where no such file exists."""
        for extension in EXTENSIONS:
            path = Path(file_path + extension)
            if path.is_file():
                payload = path.read_bytes()
                if extension.endswith(".gz"):
                    payload = gzip.decompress(payload)
                if path.name.startswith(SERVICE_MODEL + "."):
                    return _lean(payload)
                return json.loads(payload)
        return None


class SearchPaths(list[str]):
    """A loader's search paths, each held once. ``boto3.Session`` appends boto3's own data folder to
    its botocore session's loader every time one is built: on a loader shared by every session
    (one per assumed member role) the list would grow by one path per session for the life of the
    container, and each lookup of a file not yet loaded would try every copy."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


class OneServiceLoader(Loader):
    """botocore's data loader, without listing every service before a service's first model.

    botocore's ``load_service_model`` first lists every service that has a file of the type asked
    for (about 450 folders, a few stats each: 9-13 ms per type, three or four types per container),
    only to refuse a name that is not among them. Here, while a model loads, that list is the one
    service when its own folder holds such a file; otherwise (an unknown service, a type the service
    lacks, or anyone else asking) it is botocore's whole list, so botocore raises what it always
    raised. The rest of the load is botocore's own. Its search paths take each path once
    (:class:`SearchPaths`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loading = threading.local()
        self._search_paths = SearchPaths(self.search_paths)

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        self._loading.service = service_name
        try:
            return super().load_service_model(service_name, type_name, api_version)
        finally:
            self._loading.service = None

    def list_available_services(self, type_name: str) -> list[str]:
        service: str | None = getattr(self._loading, "service", None)
        if service is not None:
            try:
                self.list_api_versions(service, type_name)  # its folder, versions with such a file
            except DataNotFoundError:
                pass
            else:
                return [service]
        known: list[str] = super().list_available_services(type_name)
        return known


def shared_loader(data_path: str | None = None) -> Loader:
    """The process's data loader for a ``data_path`` (``AWS_DATA_PATH``, split as botocore's own
    ``create_loader`` splits it): botocore's search paths and the lean file loader. ``shared_loader()``
    and ``shared_loader(None)`` are the same loader."""
    return _loader_for(data_path)


@cache
def _loader_for(data_path: str | None) -> Loader:
    paths = data_path.split(os.pathsep) if data_path else []
    extra = [str(Path(os.path.expandvars(path)).expanduser()) for path in paths]
    return OneServiceLoader(extra_search_paths=extra or None, file_loader=LeanJSONFileLoader())


_registered: tuple[tuple[object, ...], HierarchicalEmitter] | None = None


def builtin_handlers() -> HierarchicalEmitter:
    """botocore's built-in handlers (``botocore.handlers.BUILTIN_HANDLERS``) registered as a new
    session registers them (``Session._register_builtin_handlers``: through the event aliaser, first,
    last or in order), once per container; registered afresh only when the list has changed since
    (moto, imported after tokenfuse in the tests, appends its stubber to it). Not by building a
    throwaway session: its initializers (Powertools' user-agent feature) would be copied into every
    session, which runs them again."""
    global _registered  # noqa: PLW0603 - one per container, as the loader is
    wanted = tuple(handlers.BUILTIN_HANDLERS)
    if _registered is None or _registered[0] != wanted:
        emitter = HierarchicalEmitter()
        events = EventAliaser(emitter)
        for event_name, handler, *how in wanted:
            if not how:
                events.register(event_name, handler)
            elif how[0] is handlers.REGISTER_FIRST:
                events.register_first(event_name, handler)
            elif how[0] is handlers.REGISTER_LAST:
                events.register_last(event_name, handler)
        _registered = (wanted, emitter)
    return _registered[1]


def botocore_session() -> botocore.session.Session:
    """A new botocore session (its own credentials and configuration) reading service models through
    the one :func:`shared_loader`, its built-in handlers a copy of :func:`builtin_handlers`."""
    hooks = copy.copy(builtin_handlers())
    session = botocore.session.Session(event_hooks=hooks, include_builtin_handlers=False)
    session.register_component("data_loader", shared_loader(session.get_config_variable("data_path")))
    return session


__all__ = [
    "LeanJSONFileLoader",
    "OneServiceLoader",
    "SearchPaths",
    "botocore_session",
    "builtin_handlers",
    "shared_loader",
]
