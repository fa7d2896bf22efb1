"""Emulations: what moto lacks for tokenfuse, each as small as it can be and named as emulation.

- :mod:`.bedrock_profiles`: the Bedrock application inference-profile API inside moto.
- :mod:`.bedrock_runtime`: ``bedrock-runtime`` (InvokeModel, Converse and their streaming forms) inside
  moto, with the model bodies of :mod:`.bedrock_bodies`, the event-stream framing of
  :mod:`.eventstream`, and the ``AWS/Bedrock`` metrics.
- :mod:`.bedrock_access`: whether a Bedrock call is denied (SCPs after a propagation delay, inline
  policies), for the runtime and the story's traffic alike.
- :mod:`.invocation_logs`: model invocation log records, and subscription-filter delivery on the
  simulated clock (patterns: :mod:`.log_filter_patterns`).
- :mod:`.clock`: a simulated clock that drives ``tokenfuse.clock`` and moto's Step Functions waits.
- :mod:`.slack_server`: a Slack-compatible Web API server on loopback, plus signed interactivity posts.
- :mod:`.alarms`: CloudWatch alarm evaluation over moto's stored metric data, with the events and
  SNS notifications AWS sends on a state change.
- :mod:`.metrics_insights`: the one Metrics Insights query shape tokenfuse sends (top ModelId
  series of a metric), answered over moto's stored metric data; any other query is refused.
- :mod:`.price_list`: the AWS Price List API (``pricing:GetProducts``) for Bedrock's two service
  codes, from a hand-written catalogue in the documented entry format (``tokenfuse prices refresh``).

Each one is usable on its own inside ``with mock_aws(...)``. What they prove is that tokenfuse
works against these emulations; each module's docstring says what it does not prove.
"""
