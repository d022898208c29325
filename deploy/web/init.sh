#!/bin/sh
# What the exporter's --web.config.file needs, made once in DIR: a throwaway CA and a
# certificate for the exporter that it signs (its key is deleted at once: it signs nothing
# else), a random scrape password, and web.yml (TLS, basic auth with the password's bcrypt
# hash, lifecycle endpoints stay off). A file already in DIR is kept: mount your own
# server.crt, server.key and ca.pem, or scrape-password, and they are used instead.
#
#   sh deploy/web/init.sh DIR [HOSTNAME...]    (default hostnames: exporter localhost)
#
# docker-compose.yml runs it as the web-init service; the exporter and Prometheus read DIR.
# WEB_FILES_OWNER=uid:gid hands the files to the user they run as; PYTHON names a Python
# with the bcrypt package (default python3, as in the image).
set -eu
dir=$1
shift
names=${*:-exporter localhost}
python=${PYTHON:-python3}
umask 077
mkdir -p "$dir"
cd "$dir"

if [ ! -s server.key ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
        -subj "/CN=business-exporter throwaway CA" -keyout ca.key -out ca.pem \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        2>/dev/null
    san=""
    for name in $names; do san="${san}DNS:$name,"; done
    printf 'subjectAltName=%sIP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=business-exporter" -keyout server.key -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
        -extfile server.ext -out server.crt 2>/dev/null
    rm -f ca.key ca.srl server.csr server.ext
fi
if [ ! -s scrape-password ]; then
    "$python" -c 'import secrets; print(secrets.token_urlsafe(32), end="")' > scrape-password
fi
if [ ! -s web.yml ]; then
    hash=$("$python" -c 'import sys, bcrypt
password = open(sys.argv[1], "rb").read().strip()
print(bcrypt.hashpw(password, bcrypt.gensalt(10)).decode())' scrape-password)
    cat > web.yml <<WEB
# Made by deploy/web/init.sh: the exporter's --web.config.file.
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS12
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
    X-Frame-Options: deny
basic_auth_users:
  prometheus: $hash
WEB
fi
chmod 0444 ca.pem server.crt
chmod 0400 server.key scrape-password web.yml
if [ -n "${WEB_FILES_OWNER:-}" ]; then
    chown "$WEB_FILES_OWNER" . ca.pem server.crt server.key scrape-password web.yml
    chmod 0700 .
fi
