# One image for the exporter, the demo API and the webhook sink of docker-compose.yml.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip install --no-cache-dir . && rm -rf /src

WORKDIR /
USER nobody
EXPOSE 9117
CMD ["business-exporter", "serve", "--config", "/etc/business-exporter/config.yaml", "--listen", "0.0.0.0:9117"]
