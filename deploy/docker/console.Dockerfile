# syntax=docker/dockerfile:1
# gridgov console (python -m gridgov_console, port 8000). Build from the repository root:
#   docker build -f deploy/docker/console.Dockerfile -t gridgov/console:0.1.0 .
# Like the four service Dockerfiles but for the service name, module, env prefix and port. The console has no
# database and no bus consumer: it serves the page and proxies to the services (GRIDGOV_CONSOLE_*_URL).

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: resolve the locked dependencies of this one workspace member into /app/.venv -------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.8
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
# Dependencies first (a layer that changes only with uv.lock): the lock file and every workspace
# member's manifest, which uv needs to read the workspace; no sources yet.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/event-intake/pyproject.toml services/event-intake/
COPY services/grid-registry/pyproject.toml services/grid-registry/
COPY services/dispatch/pyproject.toml services/dispatch/
COPY services/notification/pyproject.toml services/notification/
COPY services/console/pyproject.toml services/console/
COPY cli/pyproject.toml cli/
RUN uv sync --frozen --no-dev --no-install-workspace --package gridgov-console
# Then the two workspace packages this service is made of, installed into the venv (not editable),
# so the runtime stage needs nothing but the venv.
COPY libs/common/ libs/common/
COPY services/console/ services/console/
RUN uv sync --frozen --no-dev --no-editable --package gridgov-console

# ---- runtime: the venv on a clean slim image, as a non-root user ------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 gridgov \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin gridgov \
 && mkdir -p /var/lib/gridgov \
 && chown 10001:10001 /var/lib/gridgov
COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GRIDGOV_DATA_DIR=/var/lib/gridgov \
    GRIDGOV_LOG_JSON=true \
    GRIDGOV_CONSOLE_HOST=0.0.0.0 \
    GRIDGOV_CONSOLE_PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=150s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GRIDGOV_CONSOLE_PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "gridgov_console"]
