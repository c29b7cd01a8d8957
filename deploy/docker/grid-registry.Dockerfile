# syntax=docker/dockerfile:1
# gridgov grid-registry (python -m gridgov_grid_registry, port 8002). Build from the repository root:
#   docker build -f deploy/docker/grid-registry.Dockerfile -t gridgov/grid-registry:0.1.0 .
# The four service Dockerfiles are identical but for the service name, module, env prefix and port
# (tests/deploy/test_manifests.py keeps them that way).

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
COPY cli/pyproject.toml cli/
RUN uv sync --frozen --no-dev --no-install-workspace --package gridgov-grid-registry
# Then the two workspace packages this service is made of, installed into the venv (not editable),
# so the runtime stage needs nothing but the venv.
COPY libs/common/ libs/common/
COPY services/grid-registry/ services/grid-registry/
RUN uv sync --frozen --no-dev --no-editable --package gridgov-grid-registry

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
    GRIDGOV_REGISTRY_HOST=0.0.0.0 \
    GRIDGOV_REGISTRY_PORT=8002
WORKDIR /app
USER 10001:10001
EXPOSE 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=150s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GRIDGOV_REGISTRY_PORT', '8002'), timeout=4)"]
CMD ["python", "-m", "gridgov_grid_registry"]
