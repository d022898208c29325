# One image for the exporter, the demo API and the webhook sink of docker-compose.yml.
FROM python:3.11-slim

# The packages come from uv.lock, pinned and hash-checked, as for `make test`.
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY exporter ./exporter
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv export --frozen --no-emit-project --output-file /tmp/requirements.txt \
    && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
    && pip install --no-cache-dir --no-deps . \
    && pip uninstall --yes uv && rm -rf /src /tmp/requirements.txt

WORKDIR /
USER nobody
EXPOSE 9117
# Hardened by default: HTTPS and basic auth from a web config you mount (deploy/web/init.sh makes
# a throwaway one), no lifecycle endpoints (SIGHUP reloads: `docker kill --signal HUP`). Without
# /etc/business-exporter/web/web.yml the exporter refuses to start.
CMD ["business-exporter", "serve", "--config", "/etc/business-exporter/config.yaml", \
     "--web.config.file", "/etc/business-exporter/web/web.yml", "--listen", "0.0.0.0:9117"]
