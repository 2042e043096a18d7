# One image for every socialcare worker; docker-compose picks the binary
# (socialcare-ingest, -classify, -route, -track, -alert, socialcarectl).
#   docker build -t socialcare .
# Build stage: the -dev packages of scripts/deps.sh. Runtime stage: only the
# shared libraries, tzdata (business calendars, brand time zones),
# ca-certificates (TLS to Kafka, webhooks) and curl (the HEALTHCHECK).

FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config librdkafka-dev libavro-dev libhiredis-dev \
      libcurl4-openssl-dev libutf8proc-dev libmicrohttpd-dev libyaml-dev libssl-dev \
      liblinear-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The top-level CMakeLists.txt discovers services/, tests/ and bench/: all three
# are needed to configure, only the installed targets end up in the image.
COPY CMakeLists.txt ./
COPY common common
COPY services services
COPY schemas schemas
COPY config config
COPY tests tests
COPY bench bench
# RelWithDebInfo (-O2) is the build type the test suite and CI compile with
# -Werror; at -O3 (Release) GCC 12 raises -Wformat-truncation false positives.
# --strip drops the debug info from what is installed.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_TEST_HOOKS=OFF \
    && cmake --build /build -j"$(nproc)" \
    && cmake --install /build --prefix /opt/socialcare --strip

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      librdkafka1 libavro23 libhiredis0.14 libcurl4 libutf8proc2 libmicrohttpd12 \
      libyaml-0-2 libssl3 liblinear4 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 socialcare \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
         --home-dir /nonexistent --shell /usr/sbin/nologin socialcare
COPY --from=build /opt/socialcare/bin /opt/socialcare/bin
COPY --from=build /opt/socialcare/share /opt/socialcare/share
# Compiled-in defaults point into the source tree: the image says where its
# data went. SOCIALCARE_<SECTION>_<KEY> overrides any setting of the file.
ENV PATH=/opt/socialcare/bin:$PATH \
    SOCIALCARE_CONFIG=/opt/socialcare/share/socialcare/config/socialcare.yaml \
    SOCIALCARE_SCHEMAS_DIR=/opt/socialcare/share/socialcare/schemas \
    SOCIALCARE_CLASSIFY_DATA_DIR=/opt/socialcare/share/socialcare/classify \
    SOCIALCARE_CLASSIFY_MODEL=/opt/socialcare/share/socialcare/classify/models/sc-lin-1.model \
    SOCIALCARE_METRICS_PORT=9100 \
    SOCIALCARE_LOG_FORMAT=json
# Numeric, so orchestrators can verify runAsNonRoot.
USER 10001:10001
EXPOSE 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS --max-time 4 "http://127.0.0.1:${SOCIALCARE_METRICS_PORT}/healthz" || exit 1
CMD ["socialcare-ingest"]
