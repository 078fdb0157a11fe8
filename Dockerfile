# The Vigil image: the gateway and the trainer share it (the chart runs
# `vigil gateway --config ...` and `vigil trainer --config ...`).
#   docker build -t REGISTRY/vigil:0.1.0 .
# torch comes from PyPI with its CUDA libraries (constraints.txt pins them), so the same image
# trains on a GPU node and serves the gateway's CPU judges.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/vigil
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir -p adapter gateway trainer && touch adapter/__init__.py gateway/__init__.py \
      trainer/__init__.py \
 && /opt/vigil/bin/pip install -c constraints.txt . \
 && /opt/vigil/bin/pip uninstall -y vigilloop
COPY adapter adapter
COPY gateway gateway
COPY trainer trainer
RUN /opt/vigil/bin/pip install --no-deps -c constraints.txt . \
 && /opt/vigil/bin/python -c "import gateway.judges.registry, trainer.cli"

FROM python:3.11-slim
# The uid/gid the chart's securityContext runs as (runAsUser/runAsGroup/fsGroup 10001).
RUN groupadd --gid 10001 vigil \
 && useradd --uid 10001 --gid vigil --no-create-home --home-dir /var/lib/vigil/scratch \
      --shell /usr/sbin/nologin vigil
COPY --from=build /opt/vigil /opt/vigil
# The root filesystem is read-only in the chart: HOME, TMPDIR and HF_HOME point at volumes.
ENV PATH=/opt/vigil/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8080 9400
ENTRYPOINT ["vigil"]
CMD ["gateway", "--config", "/etc/vigil/config/vigil.yaml"]
