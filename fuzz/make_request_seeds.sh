#!/usr/bin/env bash
# Writes the seed corpus of v1_request_fuzzer (fuzz/corpus/v1_request): each
# seed is one byte choosing the model and length limit (see the target) and a
# ClassifyRequest encoded with protoc from the text below. Re-runnable; the
# seeds are committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus/v1_request"
proto_dir="$here/../proto"
mkdir -p "$out"
seed() {  # NAME SELECTOR_BYTE TEXT
  local name=$1 selector=$2 text=$3
  { printf "\\x$selector"
    printf '%s\n' "$text" | protoc -I"$proto_dir" --encode=attnserve.v1.ClassifyRequest \
      attnserve/v1/attnserve.proto; } > "$out/$name"
}
seed values_ok 00 'model: "m" sequences { values: [1, 0, 0, 0, 0.5, 0.25, 0, 1] steps: 2 features: 4 }'
seed values_two 02 'model: "m" return_attention: true top_k: 2 sequences { values: [1, 2, 3, 4] } sequences { values: [0, 0, 0, 0, 1, 1, 1, 1] features: 4 }'
seed values_nan 00 'model: "m" sequences { values: [1, nan, 0, 0] }'
seed values_inf 00 'model: "m" sequences { values: [1, 0, inf, 0] steps: 1 }'
seed values_ragged 00 'model: "m" sequences { values: [1, 2, 3] }'
seed values_steps_mismatch 00 'model: "m" sequences { values: [1, 2, 3, 4] steps: 3 }'
seed values_features 00 'model: "m" sequences { values: [1, 2, 3, 4, 5, 6] features: 3 }'
seed values_ids 00 'model: "m" sequences { ids: [1, 2, 3] }'
seed values_empty 00 'model: "m" sequences { }'
seed no_sequences 00 'model: "m" version: 2 version_label: "stable" request_id: "r1"'
seed ids_ok 01 'model: "t" sequences { ids: [1, 2, 19, 0] } sequences { ids: [5] steps: 1 features: 1 }'
seed ids_out_of_range 01 'model: "t" sequences { ids: [1, 20] }'
seed ids_negative 03 'model: "t" sequences { ids: [-1] }'
seed ids_values 01 'model: "t" sequences { values: [1, 2] }'
seed ids_steps_mismatch 01 'model: "t" sequences { ids: [1, 2] steps: 3 }'
