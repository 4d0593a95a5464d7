# ticketd: one image for every actor (broker, worker, http-edge, progress-hub), the two
# command-line tools, the SQL migrations and the browser UI.
#
# Why one image rather than one per actor: the four binaries share libcommon and proto and
# are built by one Makefile in one pass; their runtime libraries differ by a few hundred KB
# (libpq for the worker, libmicrohttpd/libjwt for the edge, libwebsockets for the hub), far
# less than the cost of four builds, four tags and four pushes that must always move
# together, since every actor speaks the same proto/ version. compose.yaml picks the binary
# per service with `command:`. See docs/OPERATIONS.md.

# Any Debian 12 root file system will do: the default is the public image; where no image
# registry is reachable, one made locally (debootstrap bookworm, then `docker import`; see
# tests/compose/run.sh) is passed with --build-arg BASE_IMAGE=..., or BASE_IMAGE in .env.
ARG BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------- build
FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential pkg-config libzmq3-dev libczmq-dev libpq-dev libmicrohttpd-dev \
        libjansson-dev libwebsockets-dev libjwt-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common/ common/
COPY proto/ proto/
COPY broker/ broker/
COPY workers/ workers/
COPY http-edge/ http-edge/
COPY progress-hub/ progress-hub/
COPY tools/ tools/
# Only the binaries: the unit tests are not part of the image.
RUN make -j"$(nproc)" BUILD=build \
        build/bin/broker build/bin/worker build/bin/http-edge build/bin/progress-hub \
        build/bin/ticketd-status build/bin/ticketd-watch build/bin/ticketd-keygen \
 && strip build/bin/*

# ---------------------------------------------------------------- runtime
FROM ${BASE_IMAGE} AS runtime
# Runtime libraries of the binaries (objdump -p build/bin/*; libcap2 comes with libwebsockets'
# link line), psql for the migrate service, and curl for the HTTP healthchecks.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libzmq5 libczmq4 libpq5 libmicrohttpd12 libjansson4 libwebsockets17 libjwt0 \
        libssl3 libcap2 postgresql-client-15 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ticketd \
 && useradd --system --uid 10001 --gid ticketd --home-dir /app --shell /usr/sbin/nologin ticketd
WORKDIR /app
COPY --from=build /src/build/bin/ /usr/local/bin/
COPY sql/ /app/sql/
COPY web/ /app/web/
ENV WEB_ROOT=/app/web \
    LOG_LEVEL=info
USER ticketd:ticketd
# No default actor: compose.yaml (or `docker run IMAGE broker`) names the binary.
CMD ["broker"]
