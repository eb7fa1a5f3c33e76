#!/bin/sh
# attnserve's container entrypoint: turns ATTNSERVE_* environment variables into
# flags, then execs attnserve (PID 1, so SIGTERM from `docker stop` or the
# kubelet reaches it and it drains). Arguments given to the container (CMD, or
# `docker run IMAGE --flag=value`) come after the environment's flags and win:
# attnserve takes the last value of a repeated flag.
#
# Model repository: ATTNSERVE_MODEL_REPOSITORY if set; otherwise /models when a
# repository is mounted there (the directory is not empty); otherwise the bundled
# demo repository /opt/attnserve/models.
#
# `attnserve-entrypoint health` checks the running server through grpc.health.v1
# (the image's HEALTHCHECK); any other first argument starting without "-" is run
# as a command (e.g. `attnctl models`, `sh`).
set -eu

fail() {
  echo "attnserve-entrypoint: $*" >&2
  exit 2
}

# Numeric settings must be plain numbers: Kubernetes "service links" define
# e.g. ATTNSERVE_METRICS_PORT=tcp://10.0.0.7:8502 for a Service named
# attnserve-metrics, which must not be taken for a port.
number() {  # number VAR VALUE
  case "$2" in
    tcp://*|udp://*) fail "$1='$2' is not a number: a Kubernetes service link? (set enableServiceLinks: false)" ;;
    ''|*[!0-9.]*) fail "$1='$2' is not a number" ;;
  esac
}

grpc_port=${ATTNSERVE_GRPC_PORT:-8500}
number ATTNSERVE_GRPC_PORT "$grpc_port"

if [ "${1:-}" = "health" ]; then
  shift
  # A TLS server is asked over TLS: ATTNSERVE_HEALTH_TLS_CA (the CA that signed
  # the server's certificate), with mutual TLS also ATTNSERVE_HEALTH_TLS_CERT
  # and _KEY (a client certificate), and ATTNSERVE_HEALTH_TLS_SERVER_NAME when
  # the certificate is not valid for 127.0.0.1 (docs/security.md).
  if [ -n "${ATTNSERVE_TLS_CERT:-}" ]; then
    [ -n "${ATTNSERVE_HEALTH_TLS_CA:-}" ] ||
      fail "the server runs TLS (ATTNSERVE_TLS_CERT): set ATTNSERVE_HEALTH_TLS_CA for the health check"
    set -- --tls_ca="$ATTNSERVE_HEALTH_TLS_CA" "$@"
    [ -z "${ATTNSERVE_HEALTH_TLS_CERT:-}" ] ||
      set -- --tls_cert="$ATTNSERVE_HEALTH_TLS_CERT" --tls_key="${ATTNSERVE_HEALTH_TLS_KEY:-}" "$@"
    [ -z "${ATTNSERVE_HEALTH_TLS_SERVER_NAME:-}" ] ||
      set -- --tls_server_name="$ATTNSERVE_HEALTH_TLS_SERVER_NAME" "$@"
  fi
  exec attnctl health --server "127.0.0.1:$grpc_port" --timeout_ms "${ATTNSERVE_HEALTH_TIMEOUT_MS:-3000}" "$@"
fi
case "${1:-}" in
  ''|-*) ;;
  *) exec "$@" ;;
esac

if [ -n "${ATTNSERVE_MODEL_REPOSITORY:-}" ]; then
  repository=$ATTNSERVE_MODEL_REPOSITORY
elif [ -d /models ] && [ -n "$(ls -A /models 2>/dev/null)" ]; then
  repository=/models
else
  repository=/opt/attnserve/models
fi

# VAR:flag pairs; a variable that is unset or empty leaves attnserve's default.
set -- --model_repository="$repository" --port="$grpc_port" "$@"
for pair in \
    ATTNSERVE_HOST:host \
    ATTNSERVE_MODEL_CONTROL:model_control \
    ATTNSERVE_REPOSITORY_POLL_S:repository_poll_s \
    ATTNSERVE_STRICT_READINESS:strict_readiness \
    ATTNSERVE_METRICS:metrics \
    ATTNSERVE_METRICS_PORT:metrics_port \
    ATTNSERVE_ATTENTION_METRICS:attention_metrics \
    ATTNSERVE_ATTENTION_FEATURE_METRICS_MAX_D:attention_feature_metrics_max_d \
    ATTNSERVE_WORKERS:workers \
    ATTNSERVE_THREADS_PER_WORKER:threads_per_worker \
    ATTNSERVE_MAX_BATCH_SIZE:max_batch_size \
    ATTNSERVE_MAX_QUEUE_DELAY_US:max_queue_delay_us \
    ATTNSERVE_MAX_QUEUE_SIZE:max_queue_size \
    ATTNSERVE_MAX_QUEUED_PER_CLIENT:max_queued_per_client \
    ATTNSERVE_MAX_SEQUENCES_PER_REQUEST:max_sequences_per_request \
    ATTNSERVE_FAIR_QUEUEING:fair_queueing \
    ATTNSERVE_MAX_QUEUE_WAIT_MS:max_queue_wait_ms \
    ATTNSERVE_MAX_CLIENT_BATCH_SHARE:max_client_batch_share \
    ATTNSERVE_MAX_STREAM_PENDING:max_stream_pending \
    ATTNSERVE_DRAIN_DELAY_S:drain_delay_s \
    ATTNSERVE_BATCH_GROUPING:batch_grouping \
    ATTNSERVE_MAX_PADDING_FRACTION:max_padding_fraction \
    ATTNSERVE_MAX_SEQUENCE_LENGTH:max_sequence_length \
    ATTNSERVE_MAX_MESSAGE_BYTES:max_message_bytes \
    ATTNSERVE_SHUTDOWN_GRACE_S:shutdown_grace_s \
    ATTNSERVE_METRICS_HOST:metrics_host \
    ATTNSERVE_REFLECTION:reflection \
    ATTNSERVE_TLS_CERT:tls_cert \
    ATTNSERVE_TLS_KEY:tls_key \
    ATTNSERVE_TLS_CLIENT_CA:tls_client_ca \
    ATTNSERVE_AUTH_TOKEN_FILE:auth_token_file \
    ATTNSERVE_AUTH_INFERENCE:auth_inference \
    ATTNSERVE_UNAUTHENTICATED_ADMIN:unauthenticated_admin; do
  var=${pair%%:*}
  flag=${pair#*:}
  eval "value=\${$var:-}"
  [ -n "$value" ] || continue
  case "$var" in
    ATTNSERVE_HOST|ATTNSERVE_METRICS|ATTNSERVE_ATTENTION_METRICS|ATTNSERVE_BATCH_GROUPING|ATTNSERVE_MODEL_CONTROL|ATTNSERVE_STRICT_READINESS|ATTNSERVE_FAIR_QUEUEING) ;;
    ATTNSERVE_METRICS_HOST|ATTNSERVE_REFLECTION|ATTNSERVE_TLS_*|ATTNSERVE_AUTH_*|ATTNSERVE_UNAUTHENTICATED_ADMIN) ;;
    *) number "$var" "$value" ;;
  esac
  # Before the container's own arguments, so that those win.
  set -- "--$flag=$value" "$@"
done

echo "attnserve-entrypoint: attnserve $*" >&2
exec attnserve "$@"
