#!/bin/sh
# Starts nginx in front of TorrentEdge: makes a self-signed certificate on first start when
# none is mounted, renders templates/*.template (ports and paths only) into conf.d/, checks the
# result and runs nginx in the foreground. The compose image runs it; so does server/tests/nginx.rs.
set -eu
: "${NGINX_CONF_DIR:=/etc/nginx}"   # nginx.conf, templates/, conf.d/ (written)
: "${NGINX_PREFIX:=/var/lib/nginx}" # pid and temporary files
: "${TE_UPSTREAM:=127.0.0.1:3000}"
: "${LISTEN_ADDR:=127.0.0.1}"
: "${HTTP_PORT:=80}"
: "${HTTPS_PORT:=443}"
: "${TLS_DIR:=/etc/nginx/tls}"
: "${TLS_CN:=localhost}"
export TE_UPSTREAM LISTEN_ADDR HTTP_PORT HTTPS_PORT TLS_DIR

if [ ! -s "$TLS_DIR/tls.crt" ] || [ ! -s "$TLS_DIR/tls.key" ]; then
  echo "entrypoint: no certificate in $TLS_DIR; generating a self-signed one for $TLS_CN" >&2
  mkdir -p "$TLS_DIR"
  umask 077
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$TLS_CN" \
    -addext "subjectAltName=DNS:$TLS_CN,IP:127.0.0.1" \
    -keyout "$TLS_DIR/tls.key" -out "$TLS_DIR/tls.crt" 2>/dev/null
  umask 022
fi

mkdir -p "$NGINX_CONF_DIR/conf.d" "$NGINX_PREFIX/tmp"
for t in "$NGINX_CONF_DIR"/templates/*.template; do
  out="$NGINX_CONF_DIR/conf.d/$(basename "$t" .template)"
  envsubst '${TE_UPSTREAM} ${LISTEN_ADDR} ${HTTP_PORT} ${HTTPS_PORT} ${TLS_DIR}' <"$t" >"$out"
done
nginx -t -q -e stderr -p "$NGINX_PREFIX/" -c "$NGINX_CONF_DIR/nginx.conf"
exec nginx -e stderr -p "$NGINX_PREFIX/" -c "$NGINX_CONF_DIR/nginx.conf" -g 'daemon off;'
