"""moto's own state, written directly where a test puts its world back between cases: no API call
(so nothing a recorder or fault injector watches sees it, and a case pays nothing for it)."""

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends


def empty_table(name: str, region: str, account: str = DEFAULT_ACCOUNT_ID) -> None:
    """Every item of moto's DynamoDB table ``name`` gone (its key schema and indexes stay)."""
    dynamodb_backends[account][region].get_table(name).items.clear()
