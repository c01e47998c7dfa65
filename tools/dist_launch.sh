# Sourced by tools/dist_train.sh and tools/dist_test.sh (not run by itself):
#   dist_launch SCRIPT NPROC [SCRIPT args...]
# runs tools/SCRIPT in NPROC processes on this node with torch.distributed.run.
# Env: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1 on
# one node; required with NNODES>1: the address of the node with NODE_RANK=0,
# the same on every node), PYTHON (python).
DIST_TOOLS=$(dirname "${BASH_SOURCE[0]}")

dist_launch() {
    local script=$1 nproc=$2
    shift 2
    local nnodes=${NNODES:-1}
    if [ "$nnodes" -gt 1 ] && [ -z "${MASTER_ADDR:-}" ]; then
        echo "$(basename "$0"): NNODES=$nnodes needs MASTER_ADDR, the address" \
            "of the node with NODE_RANK=0 (reachable from every node;" \
            "127.0.0.1 would make each node wait for itself)" >&2
        exit 2
    fi
    PYTHONPATH="$DIST_TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    "${PYTHON:-python}" -m torch.distributed.run \
        --nnodes="$nnodes" \
        --node_rank="${NODE_RANK:-0}" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" \
        --nproc_per_node="$nproc" \
        --master_port="${PORT:-29500}" \
        "$DIST_TOOLS/$script" "$@"
}
