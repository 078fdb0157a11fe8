#!/usr/bin/env bash
# Wheels that bench/train_throughput.py needs on the GPU machine and its image may lack
# (Python 3.12, x86-64, no package index there): trl and datasets (with dill and multiprocess),
# and pydantic (trainer.stages -> adapter.registry) with its core and helpers. Versions are the
# pins of constraints.txt. Extra names on the command line are fetched too, pinned the same way
# (e.g. `bench/gpu_wheels.sh pyarrow fsspec` if the run warns that the image's are out of range).
#
#   bench/gpu_wheels.sh            # -> .whl/ (git-ignored), then carry ".whl" to the machine
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.whl
python=${PYTHON:-.venv/bin/python}
names=(trl datasets dill multiprocess pydantic pydantic_core annotated-types typing-inspection
       typing_extensions "$@")
pins=()
for name in "${names[@]}"; do
    # constraints.txt spells names either way (pydantic_core, annotated-types).
    pattern=$(printf '%s' "$name" | sed 's/[-_]/[-_]/g')
    pin=$(grep -i -E "^${pattern}==" constraints.txt || true)
    if [[ -z $pin ]]; then echo "no pin for $name in constraints.txt" >&2; exit 1; fi
    pins+=("$pin")
done
mkdir -p "$dest"
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d "$dest" "${pins[@]}"
ls -l "$dest"
