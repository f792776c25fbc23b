# créneau: slim, non-root; applies the migrations, then serves.
# The package is installed in place (editable) so that config/ (texts, demo, defaults) sits
# beside it, where the service looks for it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CRENEAU_HOST=0.0.0.0 CRENEAU_PORT=8000 \
    CRENEAU_DATABASE_URL=sqlite+aiosqlite:////data/creneau.db
RUN useradd --create-home --uid 10001 creneau && mkdir /data && chown creneau /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduler ./scheduler
COPY notifications ./notifications
COPY config ./config
RUN pip install --upgrade pip && pip install -e . && python -m compileall -q scheduler notifications
USER creneau
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os,sys,urllib.request; port = os.environ.get('CRENEAU_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "creneau migrate && exec creneau serve --no-migrate"]
