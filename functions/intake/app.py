"""Intake: the SQS queue every spend signal lands in -> SpendSignal events on tokenfuse's bus.

Wiring only: the work is in tokenfuse.intake. Partial batch failure: a record that is not a spend
signal is reported back to SQS, which redrives it to the dead-letter queue. Each record's
correlation id is its signal's ``dedup_key`` (set per record by tokenfuse.intake).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.intake import get_intake
from tokenfuse.observability import lambda_handler_shell

# A batch whose every record fails still returns its failures (no exception): SQS then redrives
# exactly those records, and what never parses ends in the dead-letter queue.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> list[str]:
    return get_intake().handle_record(record)


@lambda_handler_shell()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_intake().start_invocation(context)  # a broken environment fails here, before a record is read
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
