# One image for every socialcare worker; docker-compose picks the binary.
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config librdkafka-dev libavro-dev libhiredis-dev \
      libcurl4-openssl-dev libutf8proc-dev libmicrohttpd-dev libyaml-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common common
COPY services services
COPY schemas schemas
COPY config config
COPY tests tests
COPY bench bench
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build -j"$(nproc)" \
    && cmake --install /build --prefix /opt/socialcare

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      librdkafka1 libavro23 libhiredis0.14 libcurl4 libutf8proc2 libmicrohttpd12 \
      libyaml-0-2 libssl3 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home socialcare
COPY --from=build /opt/socialcare /opt/socialcare
ENV PATH=/opt/socialcare/bin:$PATH \
    SOCIALCARE_CONFIG=/opt/socialcare/share/socialcare/config/socialcare.yaml \
    SOCIALCARE_SCHEMAS_DIR=/opt/socialcare/share/socialcare/schemas \
    SOCIALCARE_CLASSIFY_DATA_DIR=/opt/socialcare/share/socialcare/classify
USER socialcare
EXPOSE 9100
CMD ["socialcare-ingest"]
