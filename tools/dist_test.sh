#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Env: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1 on
# one node; required with NNODES>1: the address of the node with NODE_RANK=0,
# the same on every node); see tools/dist_launch.sh.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
source "$(dirname "$0")/dist_launch.sh"
dist_launch test.py "$NPROC" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
