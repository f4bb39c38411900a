# The mention-router worker image: every role runs from it (`run --role ...`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MENTION_ROUTER_CLASSIFIER__MODEL=/app/var/model.skops

WORKDIR /app
COPY pyproject.toml README.md ./
COPY routing routing
COPY connectors connectors
COPY workers workers
COPY config config
RUN pip install . \
 && mention-router train --data config/demo/seed_mentions.csv --text-column text \
      --label topic=topic --label urgency=urgency --label sentiment=sentiment \
      --out /app/var/model.skops >/dev/null

EXPOSE 9464
ENTRYPOINT ["mention-router", "--log-level", "INFO"]
CMD ["run", "--role", "all"]
