"""Turn mentions into classifications: the model's heads, language detection, recorded labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from routing.language import detect_language
from routing.models import UNKNOWN_TOPIC, Classification, Mention, Sentiment, Taxonomy, Urgency

LABELS_VERSION = "labels"

E = TypeVar("E", Urgency, Sentiment)


class HeadModel(Protocol):
    """What the tagger needs of a classifier: batch predictions per head, and a version."""

    version: str

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]: ...


class Tagger:
    """Classifies batches of mentions; with ``use_labels`` recorded labels win over the model."""

    def __init__(
        self,
        model: HeadModel | None,
        taxonomy: Taxonomy,
        *,
        use_labels: bool = False,
    ) -> None:
        if model is None and not use_labels:
            raise ValueError("a tagger needs a model unless it routes on recorded labels")
        self.model = model
        self.taxonomy = taxonomy
        self.use_labels = use_labels
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
        if self.use_labels:
            heads.update({head: (label, 1.0) for head, label in mention.labels.items()})
        topic, topic_p = heads.get("topic", (UNKNOWN_TOPIC, 0.0))
        if topic not in self.taxonomy.topics:
            topic = UNKNOWN_TOPIC
        urgency, urgency_p = heads.get("urgency", (Urgency.NORMAL.value, 0.0))
        sentiment, sentiment_p = heads.get("sentiment", (Sentiment.NEUTRAL.value, 0.0))
        if mention.lang:
            language, language_p = mention.lang, 1.0
        else:
            language, language_p = detect_language(mention.text)
        return Classification(
            mention_id=mention.id,
            topic=topic,
            urgency=_member(Urgency, urgency, Urgency.NORMAL),
            language=language,
            sentiment=_member(Sentiment, sentiment, Sentiment.NEUTRAL),
            confidence={
                "topic": round(topic_p, 4),
                "urgency": round(urgency_p, 4),
                "sentiment": round(sentiment_p, 4),
                "language": round(language_p, 4),
            },
            model_version=self.version,
        )


def _member(enum: type[E], value: str, default: E) -> E:
    try:
        return enum(value)
    except ValueError:
        return default
