"""A Lambda context for handlers run by hand in tests (the attributes Powertools and handlers read)."""

import uuid
from dataclasses import dataclass, field


@dataclass
class FakeContext:
    function_name: str
    account: str = "123456789012"
    memory_limit_in_mb: int = 512
    remaining_ms: int = 30_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{self.account}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
