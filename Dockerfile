# attnserve container image: a build stage with Debian's -dev packages compiles
# attnserve and attnctl; the runtime stage has only the shared libraries they use.
#
#   docker build -t attnserve .
#   podman build --pull=never --isolation=chroot --format docker \
#     --build-arg BASE_IMAGE=localhost/debian:bookworm -t attnserve .
#     (offline, base image from scripts/make-base-image.sh; --format docker keeps
#     the HEALTHCHECK, which OCI images cannot carry)
#
#   docker run -p 8500:8500 -p 8502:8502 attnserve                    demo model
#   docker run -v $PWD/models:/models:ro -p 8500:8500 attnserve       your models
#   docker run -e ATTNSERVE_WORKERS=4 attnserve --max_batch_size=16   settings
#
# See docs/deploy.md.

ARG BASE_IMAGE=debian:bookworm

# ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
ARG BUILD_JOBS=
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/install-deps.sh /usr/local/bin/install-deps.sh
RUN install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY CMakeLists.txt ./
COPY proto proto
COPY engine engine
COPY server server
COPY client client
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
      -DATTNSERVE_BUILD_TESTS=OFF -DATTNSERVE_BUILD_BENCH=OFF \
 && cmake --build /build -j"${BUILD_JOBS:-$(nproc)}" --target attnserve attnctl \
 && mkdir -p /out \
 && strip -o /out/attnserve /build/server/attnserve \
 && strip -o /out/attnctl /build/client/attnctl \
 && echo "runtime packages (ldd + dpkg -S):" \
 && ldd /out/attnserve /out/attnctl | awk '$3 ~ /^\// {print $3}' | sort -u \
      | while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")"; done \
      | cut -d: -f1 | sort -u | tr '\n' ' ' && echo

# ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
# The libraries attnserve and attnctl link (ldd above): gRPC C++, protobuf,
# oneDNN, Abseil, prometheus-cpp core + pull (its HTTP exposer), cpp-httplib
# (the KServe v2 HTTP/REST API) and GNU OpenMP;
# their own dependencies (libgrpc29, civetweb, re2, c-ares, OpenSSL, ...) follow.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libdnnl2 libabsl20220623 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libcpp-httplib0.11 libgomp1 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 attnserve \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin attnserve \
 && mkdir -p /models /opt/attnserve

COPY --from=build /out/attnserve /out/attnctl /usr/local/bin/
COPY deploy/docker/entrypoint.sh /usr/local/bin/attnserve-entrypoint
COPY models /opt/attnserve/models
# Every library resolves (fails the build otherwise), and the binaries start.
RUN chmod 0755 /usr/local/bin/attnserve-entrypoint \
 && ! ldd /usr/local/bin/attnserve /usr/local/bin/attnctl | grep 'not found' \
 && attnctl --help >/dev/null

# Defaults (see docs/deploy.md for every ATTNSERVE_* variable); flags given as
# container arguments override them.
ENV ATTNSERVE_GRPC_PORT=8500 \
    ATTNSERVE_METRICS_PORT=8502 \
    ATTNSERVE_HOST=0.0.0.0
VOLUME ["/models"]
EXPOSE 8500 8502 8000
USER 10001:10001
WORKDIR /opt/attnserve
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["attnserve-entrypoint", "health"]
ENTRYPOINT ["attnserve-entrypoint"]
CMD []

LABEL org.opencontainers.image.title="attnserve" \
      org.opencontainers.image.description="gRPC model server for LSTM sequence classifiers with attention"
