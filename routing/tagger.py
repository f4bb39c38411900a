"""Turn mentions into classifications: the model's heads, language, urgency policy, labels.

The topic falls back to ``unknown`` when the model's confidence in it is below the threshold
(or it is not a topic of the taxonomy), so the router sends it to generalists instead of
acting on a wrong guess. With ``use_labels`` recorded labels win over the model, and a
recorded urgency also wins over the urgency policy: routing on labels measures routing alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from routing.language import detect_language
from routing.models import UNKNOWN_TOPIC, Classification, Mention, Sentiment, Taxonomy, Urgency
from routing.trusted import trusted
from routing.urgency import UrgencyAssessor, UrgencyPolicy

LABELS_VERSION = "labels"
DEFAULT_UNKNOWN_THRESHOLD = 0.35

# Labels to members: a dict lookup costs a fraction of calling the enum.
_URGENCIES = {u.value: u for u in Urgency}
_SENTIMENTS = {s.value: s for s in Sentiment}


class HeadModel(Protocol):
    """What the tagger needs of a classifier: batch predictions per head, and a version."""

    version: str

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]: ...


class Tagger:
    """Classifies batches of mentions; with ``use_labels`` recorded labels win over the model.

    ``policy`` is the urgency policy (None: the model's urgency as it is); it keeps a bounded
    memory of recent complaints per author for the repeat-complaint signal, so one tagger
    should see a stream in order.
    """

    def __init__(
        self,
        model: HeadModel | None,
        taxonomy: Taxonomy,
        *,
        use_labels: bool = False,
        policy: UrgencyPolicy | None = None,
        unknown_threshold: float = DEFAULT_UNKNOWN_THRESHOLD,
    ) -> None:
        if model is None and not use_labels:
            raise ValueError("a tagger needs a model unless it routes on recorded labels")
        if not 0.0 <= unknown_threshold <= 1.0:
            raise ValueError(f"unknown_threshold must be in 0..1, got {unknown_threshold}")
        self.model = model
        self.taxonomy = taxonomy
        self.use_labels = use_labels
        self.unknown_threshold = unknown_threshold
        self.urgency = UrgencyAssessor(policy) if policy is not None else None
        self.version = model.version if model is not None else LABELS_VERSION

    def tag(self, mentions: Sequence[Mention]) -> list[Classification]:
        predictions: list[dict[str, tuple[str, float]]]
        if self.model is not None:
            predictions = self.model.classify_batch([m.text for m in mentions])
        else:
            predictions = [{} for _ in mentions]
        return [self._one(m, p) for m, p in zip(mentions, predictions, strict=True)]

    def _one(self, mention: Mention, predicted: Mapping[str, tuple[str, float]]) -> Classification:
        heads = dict(predicted)
        labelled = mention.labels if self.use_labels else {}
        heads.update({head: (label, 1.0) for head, label in labelled.items()})
        topic, topic_p = heads.get("topic", (UNKNOWN_TOPIC, 0.0))
        if topic not in self.taxonomy.topics or topic_p < self.unknown_threshold:
            topic = UNKNOWN_TOPIC
        urgency_label, urgency_p = heads.get("urgency", (Urgency.NORMAL.value, 0.0))
        urgency = _URGENCIES.get(urgency_label, Urgency.NORMAL)
        sentiment_label, sentiment_p = heads.get("sentiment", (Sentiment.NEUTRAL.value, 0.0))
        sentiment = _SENTIMENTS.get(sentiment_label, Sentiment.NEUTRAL)
        if mention.lang:
            language, language_p = mention.lang, 1.0
        else:
            language, language_p = detect_language(mention.text)
        reasons: tuple[str, ...] = ()
        if self.urgency is not None:
            assessed = self.urgency.assess(
                mention, urgency, topic=topic, sentiment=sentiment, sentiment_confidence=sentiment_p
            )
            if "urgency" not in labelled:  # a recorded urgency is the truth; nothing to raise
                urgency, reasons = assessed.urgency, assessed.reasons
        confidence = {
            "topic": round(topic_p, 4),
            "urgency": round(urgency_p, 4),
            "sentiment": round(sentiment_p, 4),
            "language": round(language_p, 4),
        }
        # Every field is valid by construction (a validated mention, a taxonomy topic, enum
        # members) but the model's confidences: those are checked, and pydantic says why not.
        build = trusted if all(_probability(p) for p in confidence.values()) else _validated
        return build(
            Classification,
            mention_id=mention.id,
            topic=topic,
            urgency=urgency,
            language=language,
            sentiment=sentiment,
            confidence=confidence,
            model_version=self.version,
            urgency_reasons=reasons,
        )


def _probability(value: object) -> bool:
    return type(value) is float and 0.0 <= value <= 1.0


def _validated(cls: type[Classification], **values: Any) -> Classification:
    return cls(**values)
