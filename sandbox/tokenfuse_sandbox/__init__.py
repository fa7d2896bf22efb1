"""The sandbox: tokenfuse with no AWS account (moto plus what it lacks). Dev only, never deployed.

    from tokenfuse_sandbox import Sandbox

    with Sandbox("template.yaml", parameters={"DryRun": "true"}) as sb:   # account 111122223333, us-east-1
        sb.publish("BudgetsTopic", message)              # SNS -> intake queue -> IntakeFunction ...
        sb.put_events([event], bus="default")            # an EventBridge event, or PutEvents entries
        sb.send_to_queue("IntakeQueue", body)
        sb.fire_schedule("InventoryFunction", "DailySweep")
        sb.clock.advance(timedelta(hours=1))             # schedules, alarms and Wait states follow
        sb.drain()                                       # deliver until nothing is left to do
        sb.invocations, sb.bus_events, sb.resources, sb.function_url("ApproveFunction"), sb.slack

What it reads from template.yaml: parameters (defaults or overrides), conditions, SAM Globals,
every resource (created in moto in dependency order, names and ARNs as CloudFormation would give
them), functions (CodeUri/Handler, environment, EventInvokeConfig, FunctionUrlConfig, events), and
the state machine (DefinitionUri + DefinitionSubstitutions). A wiring mistake raises
:class:`TemplateError`.

Emulations (what moto lacks), each named in its module: in-process Lambda (``runtime``), event
delivery - SQS event source mappings, EventBridge rules to functions through shadow queues,
async-invoke retries and destinations, schedules (``delivery``), the Function URL on 127.0.0.1
(``function_url``), Step Functions around moto's interpreter (``stepfunctions``), and under
``emulation/``: Bedrock inference profiles, the simulated clock, alarm evaluation, the Slack server.
"""

from tokenfuse_sandbox.core import Sandbox
from tokenfuse_sandbox.runtime import FunctionSpec, HandlerError, Invocation
from tokenfuse_sandbox.template import ACCOUNT_ID, REGION, Template, TemplateError

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "FunctionSpec",
    "HandlerError",
    "Invocation",
    "Sandbox",
    "Template",
    "TemplateError",
]
