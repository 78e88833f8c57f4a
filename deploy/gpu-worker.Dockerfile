# Gooni GPU worker image with the diffusers runner (runners/diffusers): CUDA runtime, Python with
# the pinned runner packages, ffmpeg, and the gooni binary. NOT built or run yet: there is no
# Docker engine (and no GPU) on the development machines.
#
#   docker build -f deploy/gpu-worker.Dockerfile -t gooni-gpu-worker .
#   docker run --gpus all -v /srv/models:/models:ro -e TEMPORAL_ADDRESS=… -e DATABASE_URL=… \
#     gooni-gpu-worker worker gpu -models pony
#
# Weights are not in the image: mount the model cache at /models (see the README's "Diffusers
# runner" section for its layout and the smoke command).
#
# The worker starts the diffusers runner through GOONI_RUNNER_COMMAND (set below).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gooni ./cmd/gooni

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/gooni-venv
ENV PATH=/opt/gooni-venv/bin:$PATH
COPY runners/diffusers/requirements.txt /opt/gooni/runners/diffusers/requirements.txt
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cu128 \
      -r /opt/gooni/runners/diffusers/requirements.txt
COPY runners/diffusers /opt/gooni/runners/diffusers
COPY --from=build /out/gooni /usr/local/bin/gooni
COPY settings/inference_settings.json /etc/gooni/inference_settings.json

RUN useradd --system --uid 10001 --home-dir /var/lib/gooni --create-home gooni \
 && mkdir -p /models && chown gooni:gooni /models
ENV GOONI_SETTINGS=/etc/gooni/inference_settings.json \
    GOONI_DATA_DIR=/var/lib/gooni \
    GOONI_LOG_FORMAT=json \
    GOONI_MODEL_CACHE=/models \
    PYTHONPATH=/opt/gooni/runners/diffusers \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    GOONI_RUNNER_COMMAND="python3 /opt/gooni/runners/diffusers/runner.py" \
    GOONI_RUNNER_NAME=diffusers \
    GOONI_WORKER_HTTP_ADDR=0.0.0.0:9091
USER gooni:gooni
EXPOSE 9091
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/usr/local/bin/gooni", "probe", "http://127.0.0.1:9091/healthz"]
ENTRYPOINT ["/usr/local/bin/gooni"]
CMD ["worker", "gpu"]
