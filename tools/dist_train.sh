#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [train.py args...]
# Env: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1 on
# one node; required with NNODES>1: the address of the node with NODE_RANK=0,
# the same on every node); see tools/dist_launch.sh.
# Without CUDA the processes train on the CPU with DDP over gloo.
set -euo pipefail
CONFIG=$1
NPROC=$2
source "$(dirname "$0")/dist_launch.sh"
dist_launch train.py "$NPROC" "$CONFIG" --launcher pytorch "${@:3}"
