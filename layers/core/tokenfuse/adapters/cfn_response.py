"""Answering a CloudFormation custom resource: a PUT of the JSON response to its pre-signed URL
(what ``cfnresponse.send`` does, without the module that only exists for inline ZipFile code)."""

import json
import urllib.request
from typing import Any

from tokenfuse.errors import TransientAwsError


def send(response_url: str, body: dict[str, Any], timeout: int = 10) -> None:
    if not response_url.startswith("https://") and not response_url.startswith("http://127.0.0.1"):
        raise ValueError("custom resource ResponseURL must be https")
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        response_url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except OSError as error:
        raise TransientAwsError(f"could not answer CloudFormation: {error}") from error
