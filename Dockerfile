# hardener as a container image, for pipelines that run their tools as images. Build it from wheels
# (hardener's own and its dependencies', made where pip already works), so that the image build needs
# no package index and installs exactly what was tested:
#
#   python3 -m pip wheel --wheel-dir wheels .
#   docker build -t hardener .
#   docker run --rm -v "$PWD:/work" hardener check .
#   docker run --rm -v "$PWD:/work" hardener check --format sarif -o hardener.sarif .
#   docker run --rm -v "$PWD:/work" --user "$(id -u):$(id -g)" hardener fix .   # write as yourself
#
# Two stages on one pinned Debian base (12 "bookworm", slim; its python3 is 3.11, so the wheels must be
# made by a CPython 3.11): the first installs the wheels into a virtual environment, the second copies
# that environment onto the same base with python3 only (no pip, no compiler, no apt lists) and runs it
# as an unprivileged user. Where a registry is reachable, pin the base by digest too:
#   docker build --build-arg BASE=debian:bookworm-slim@sha256:<digest> -t hardener .
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
LABEL hardener.stage=build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY wheels /wheels
RUN python3 -m venv /opt/hardener \
    && /opt/hardener/bin/pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels hardener \
    && /opt/hardener/bin/pip uninstall -y --disable-pip-version-check pip \
    && find /opt/hardener -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 hardener \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin hardener
COPY --from=build /opt/hardener /opt/hardener
ENV PATH=/opt/hardener/bin:$PATH PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1
WORKDIR /work
USER 10001:10001
ENTRYPOINT ["hardener"]
CMD ["--help"]
