# What agent frameworks need of the sim (structured outputs, parallel tool
# calls, agent loops, stable streams), through the official SDKs.
source "$(dirname "$0")/lib.sh"
[[ -d $SRC/tests/node/node_modules/ajv ]] || fail "node packages missing: run scripts/bootstrap"
start_sim --sim-seed 5
SIM_URL=$SIM_URL node "$SRC/tests/node/sim_clients.mjs"
