/**
 * Reading vLLM's `/v1/models` cards: the context a served model has. A LoRA adapter's card has
 * no `max_model_len` of its own and names its base model as `parent`, whose context it shares.
 * The doctor and the endpoint fit read it the same way here.
 *
 * @example
 * contextOfModel(body.data, "my-adapter"); // the base model's max_model_len, or undefined
 */

export interface ModelCard {
  id?: unknown;
  parent?: unknown;
  max_model_len?: unknown;
}

function ownContext(card: ModelCard | undefined): number | undefined {
  return typeof card?.max_model_len === "number" && card.max_model_len > 0
    ? card.max_model_len
    : undefined;
}

/** The served context of `model`, or undefined when neither its card nor its parent's says. */
export function contextOfModel(cards: readonly ModelCard[], model: string): number | undefined {
  const card = cards.find((entry) => entry.id === model);
  if (!card) return undefined;
  return (
    ownContext(card) ??
    (card.parent ? ownContext(cards.find((entry) => entry.id === card.parent)) : undefined)
  );
}
