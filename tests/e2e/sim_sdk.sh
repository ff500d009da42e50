# The official openai and @anthropic-ai/sdk packages against `retrace sim`.
source "$(dirname "$0")/lib.sh"
[[ -d $SRC/tests/node/node_modules/openai ]] || fail "node packages missing: run scripts/bootstrap"
start_sim --sim-seed 11
SIM_URL=$SIM_URL node "$SRC/tests/node/sim_sdk.mjs"
