"""The drill's request and its model: the cheapest text model the price table knows."""

from dataclasses import dataclass

from tokenfuse.attribution.pricing import PriceTable, Rates
from tokenfuse.drill.canary import DrillError

DRILL_PROMPT = "Reply with one word: ok"
DRILL_MAX_OUTPUT_TOKENS = 1
ESTIMATED_INPUT_TOKENS = 16
"""What the prompt costs at most in input tokens (the model's own tokenizer and template); only
used to choose the model. The cost a drill reports is priced from the tokens AWS reports."""


@dataclass(frozen=True)
class DrillModel:
    model_id: str
    name: str
    rates: Rates

    def model_arn(self, region: str, partition: str = "aws") -> str:
        return f"arn:{partition}:bedrock:{region}::foundation-model/{self.model_id}"

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        return self.rates.cost(input_tokens, output_tokens)


def cheapest_text_model(table: PriceTable, region: str) -> DrillModel:
    """The model whose drill request costs least in ``region`` (ties: by id). Every model of the
    price table is a text model; one without a price in the region is not a candidate."""
    priced = [
        (entry.regions[region].cost(ESTIMATED_INPUT_TOKENS, DRILL_MAX_OUTPUT_TOKENS), model_id, entry)
        for model_id, entry in table.models.items()
        if region in entry.regions
    ]
    if not priced:
        raise DrillError(f"no model of the price table has a price in {region}: the drill cannot choose one")
    _, model_id, entry = min(priced, key=lambda item: (item[0], item[1]))
    return DrillModel(model_id, entry.name, entry.regions[region])
