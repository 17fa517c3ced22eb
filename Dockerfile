# The atlas in a container: one Streamlit process, on the runtime lock, as a non-root user.
# Run several behind a load balancer with sticky sessions (deploy/k8s/, or `make serve` on one host).
#
#   docker build -t climate-networks-atlas:0.1.0 .
#   docker run --rm -p 8501:8501 climate-networks-atlas:0.1.0
#   docker run --rm -p 8501:8501 -v "$PWD/data:/data:ro" -e ATLAS_DATA_DIR=/data climate-networks-atlas:0.1.0
#
# tests/test_deploy.py runs this file's build steps, HEALTHCHECK and CMD outside a container (no
# container engine on the project's machines): keep each as one line.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 atlas \
 && useradd --system --uid 10001 --gid atlas --home-dir /home/atlas --create-home --shell /usr/sbin/nologin atlas

WORKDIR /app

# The locked dependencies first (a layer that changes only with the lock), with their hashes checked.
COPY locks/runtime.txt locks/runtime.txt
RUN python -m venv /opt/venv && pip install --require-hashes -r locks/runtime.txt

COPY pyproject.toml README.md ./
COPY .streamlit .streamlit
COPY geocoding geocoding
COPY dashboard dashboard
COPY data data
RUN pip install --no-deps --no-build-isolation -e .
# Build time, as root: check the shipped data and fill dashboard/static/ (the map's Leaflet, plugins and
# outline), so that at run time the app only reads: /app and the data can be read-only.
RUN python -m dashboard validate && python -c "from dashboard.atlasmap.assets import ensure_static_assets; ensure_static_assets()"

USER atlas:atlas
ENV HOME=/home/atlas \
    ATLAS_DATA_DIR=/app/data
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["python", "-m", "dashboard.shell.server", "run", "dashboard/app.py", "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
