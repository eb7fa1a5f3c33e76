#!/bin/sh
# The server's layers depend one way (server/CMakeLists.txt): each folder may
# include only what is below it. Fails, naming the file and include, when one
# reaches up or across.
#   usage: layering_test.sh SOURCE_DIR
set -eu
src=${1:?usage: layering_test.sh SOURCE_DIR}
status=0

# forbid FOLDER PATTERN WHY: no file under FOLDER includes a path matching PATTERN.
forbid() {
  hits=$(grep -rnE "^#include [<\"]($2)" "$src/$1" --include='*.h' --include='*.cc' || true)
  if [ -n "$hits" ]; then
    echo "$1 must not include $3:"
    echo "$hits" | sed "s|$src/||"
    status=1
  fi
}

forbid engine 'server/|grpc|google/protobuf|attnserve/|prometheus/' 'the server, gRPC, protobuf or metrics'
forbid server/batching 'engine/|oneapi/|dnnl|server/(observability|serving|lifecycle|grpc)/|grpc|google/protobuf|attnserve/|prometheus/' \
  'the engine, oneDNN, gRPC, protobuf or any other server layer (it is generic over its task)'
forbid server/observability 'server/(serving|lifecycle|grpc)/|grpc|google/protobuf|attnserve/' \
  'the serving, lifecycle or gRPC layers, or protobuf'
forbid server/serving 'server/(lifecycle|kserve|grpc|http)/|grpc|google/protobuf|attnserve/' \
  'the lifecycle or gRPC layers, or protobuf (it is protocol-neutral)'
forbid server/lifecycle 'server/(kserve|grpc|http)/|grpc|attnserve/v1/(attnserve|model_control)' \
  'the gRPC layer or the API protos (config.pbtxt messages only)'
forbid server/security 'engine/|oneapi/|dnnl|server/(batching|observability|serving|lifecycle|kserve|grpc|http)/|grpc|google/protobuf|attnserve/|prometheus/' \
  'the engine, gRPC, protobuf or another server layer (every front end shares it)'
forbid server/kserve 'server/(lifecycle|grpc|http)/|grpc|google/protobuf|attnserve/|kserve/v2|httplib|nlohmann' \
  'the lifecycle, gRPC or HTTP layers, protobuf or JSON (the protocol without a transport)'
forbid server/grpc 'server/http/|httplib' 'the HTTP front end (the front ends are siblings)'
forbid server/http 'server/grpc/|grpc|google/protobuf|attnserve/|kserve/v2' \
  'the gRPC layer, gRPC or protobuf (the front ends are siblings)'
forbid server/ui 'engine/|server/(batching|observability|serving|lifecycle|security|kserve|grpc|http)/|grpc|google/protobuf|httplib' \
  'the engine or any server layer (it is the page'"'"'s files as bytes)'
forbid client 'engine/|server/' 'the engine or the server (clients speak only the API)'

[ "$status" -eq 0 ] && echo "layering: every include points down"
exit "$status"
