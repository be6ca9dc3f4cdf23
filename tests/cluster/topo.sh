# shellcheck shell=bash
# The cluster tests' topology and faults (sourced by tests/cluster/run, or
# run as `topo.sh FUNCTION ARGS...` by hand in a guest).
#
# Nodes are network namespaces node1..nodeN, each with eth0 (10.77.0.K/24,
# fd77::K/64) on a veth pair whose other end (dlkK) is a port of the bridge
# br-dlock in the root namespace.  Every fault is applied from outside the
# nodes, and logged as a "nemesis" line of $TOPO_NEMESIS (the history
# format of tests/cluster/README.md) stamped just BEFORE it takes effect:
# an earlier stamp only makes the checker more lenient, never stricter.
#
# Environment: DLOCKCTL (dlockctl binary), WORKLOAD (for its --now clock),
# TOPO_DIR (configs and the nemesis log; default /run/dlock-cluster),
# TOPO_FAMILY (4 or 6: the addresses in the configs), TOPO_PORT (7400).

TOPO_DIR=${TOPO_DIR:-/run/dlock-cluster}
TOPO_FAMILY=${TOPO_FAMILY:-4}
TOPO_PORT=${TOPO_PORT:-7400}
TOPO_NEMESIS=${TOPO_NEMESIS:-$TOPO_DIR/nemesis.hist}
TOPO_BR=br-dlock
TOPO_N=${TOPO_N:-0}

topo_now() { "$WORKLOAD" --now; }

# nemesis ACTION [KEY=VALUE...]: one line of the fault log.
nemesis() {
	local t
	t=$(topo_now) || return 1
	echo "$t nemesis action=$*" >>"$TOPO_NEMESIS"
}

topo_addr() {
	if [ "$TOPO_FAMILY" = 6 ]; then echo "fd77::$1"; else echo "10.77.0.$1"; fi
}

topo_endpoint() {
	if [ "$TOPO_FAMILY" = 6 ]; then echo "[fd77::$1]:$TOPO_PORT"; else echo "10.77.0.$1:$TOPO_PORT"; fi
}

# topo_config K: node K's dlock configuration file (dlockctl setconf).
topo_config() {
	local k=$1 j f=$TOPO_DIR/node$1.conf
	{
		echo "# node $k of a $TOPO_N-node test cluster"
		echo "[Cluster]"
		echo "Id = $k"
		echo "ListenPort = $TOPO_PORT"
		echo "ListenAddress = $(topo_addr "$k")"
		for j in $(seq "$TOPO_N"); do
			[ "$j" = "$k" ] && continue
			echo
			echo "[Peer]"
			echo "Id = $j"
			echo "Endpoint = $(topo_endpoint "$j")"
		done
	} >"$f"
	echo "$f"
}

nsx() { local k=$1; shift; ip netns exec "node$k" "$@"; }

# node_create K [noapply]: namespace, link, addresses, then its dlock
# configuration applied (unless "noapply").
node_create() {
	local k=$1 conf
	ip netns add "node$k" || return 1
	# A fixed address per node, as a rebooted machine keeps its own: the
	# peers' neighbour caches stay right across an amnesia restart.
	ip link add "dlk$k" type veth peer name eth0 netns "node$k" \
		address "$(printf '02:77:00:00:00:%02x' "$k")" || return 1
	ip link set "dlk$k" master "$TOPO_BR" up || return 1
	nsx "$k" ip link set lo up
	nsx "$k" ip addr add "10.77.0.$k/24" dev eth0
	nsx "$k" ip -6 addr add "fd77::$k/64" dev eth0 nodad
	nsx "$k" ip link set eth0 up || return 1
	conf=$(topo_config "$k")
	[ "${2:-}" = noapply ] && return 0
	nsx "$k" "$DLOCKCTL" setconf "$conf"
}

# topo_up N [noapply]: the bridge and N nodes.
topo_up() {
	local k
	TOPO_N=$1
	mkdir -p "$TOPO_DIR"
	modprobe bridge 2>/dev/null
	ip link add "$TOPO_BR" type bridge 2>/dev/null
	ip link set "$TOPO_BR" up || return 1
	# Bridged frames must not go through the root namespace's netfilter.
	sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
	for k in $(seq "$TOPO_N"); do
		node_create "$k" "${2:-}" || return 1
	done
}

# node_kill K: its processes killed (SIGKILL), its namespace deleted.  The
# "killed" line, once they are gone, bounds when they may have written last.
node_kill() {
	local k=$1 pids
	nemesis kill "node=$k"
	pids=$(ip netns pids "node$k" 2>/dev/null)
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	for _ in $(seq 50); do
		[ -z "$(ip netns pids "node$k" 2>/dev/null)" ] && break
		sleep 0.1
	done
	# The root end first: the namespace's end goes with it at once, so the
	# name dlkK is free for node_create (deleting the namespace alone
	# frees it only when the kernel gets to the namespace's cleanup).
	ip link del "dlk$k" 2>/dev/null
	ip netns del "node$k" 2>/dev/null
	nemesis killed "node=$k"
}

# node_restart K: killed, then back with amnesia (a fresh namespace).
node_restart() {
	node_kill "$1"
	nemesis restart "node=$1"
	node_create "$1"
}

# cluster_restart: every node killed, then every node back.
cluster_restart() {
	local k
	for k in $(seq "$TOPO_N"); do node_kill "$k"; done
	# one field the checker skips: node= must be a number
	nemesis restart "nodes=$(seq -s, 1 "$TOPO_N")"
	for k in $(seq "$TOPO_N"); do node_create "$k" || return 1; done
}

# isolate K...: those nodes' links down (each is cut off from every other).
isolate() {
	local k
	nemesis isolate "nodes=$(IFS=,; echo "$*")"
	for k in "$@"; do ip link set "dlk$k" down; done
}

# drop_from TO FROM...: node TO drops what it receives from the FROM nodes
# (an ingress filter in TO's namespace): a one-way cut.
drop_from() {
	local to=$1 from
	shift
	nsx "$to" tc qdisc add dev eth0 ingress 2>/dev/null
	for from in "$@"; do
		nsx "$to" tc filter add dev eth0 parent ffff: protocol ip prio 1 \
			u32 match ip src "10.77.0.$from/32" action drop || return 1
		nsx "$to" tc filter add dev eth0 parent ffff: protocol ipv6 prio 2 \
			u32 match ip6 src "fd77::$from/128" action drop || return 1
	done
}

# partition "A,B|C,D,E": no traffic between the two sides, either way.
partition() {
	local left=${1%|*} right=${1#*|} a b
	nemesis partition "sides=$1"
	for a in ${left//,/ }; do
		for b in ${right//,/ }; do
			drop_from "$a" "$b" || return 1
			drop_from "$b" "$a" || return 1
		done
	done
}

# oneway FROM TO: FROM's packets to TO are lost; TO's reach FROM.
oneway() {
	nemesis oneway "from=$1" "to=$2"
	drop_from "$2" "$1"
}

# netem "QDISC ARGS": on every node's egress (e.g. "loss 20%",
# "duplicate 20%", "delay 10ms reorder 25% 50%", "delay 50ms 10ms").
netem() {
	local k args="$*"
	nemesis netem "args=${args// /_}"
	for k in $(seq "$TOPO_N"); do
		[ -e "/run/netns/node$k" ] || continue
		# shellcheck disable=SC2068 # netem's words
		nsx "$k" tc qdisc replace dev eth0 root netem $@ || return 1
	done
}

# heal: links up, filters and netem gone.
heal() {
	local k
	nemesis heal
	for k in $(seq "$TOPO_N"); do
		[ -e "/run/netns/node$k" ] || continue
		ip link set "dlk$k" up
		nsx "$k" tc qdisc del dev eth0 root 2>/dev/null
		nsx "$k" tc qdisc del dev eth0 ingress 2>/dev/null
	done
	return 0
}

# topo_down: every node killed and deleted, the bridge too.
topo_down() {
	local k pids
	for k in $(seq "$TOPO_N"); do
		pids=$(ip netns pids "node$k" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip link del "dlk$k" 2>/dev/null
		ip netns del "node$k" 2>/dev/null
	done
	ip link del "$TOPO_BR" 2>/dev/null
	TOPO_N=0
	return 0
}

# reach FROM TO [6]: one ping from node FROM to node TO (busybox's ping:
# the guest has the host's root, where iputils may not be installed).
reach() {
	if [ "${3:-4}" = 6 ]; then
		nsx "$1" busybox ping -6 -c 1 -W 1 -w 2 "fd77::$2" >/dev/null 2>&1
	else
		nsx "$1" busybox ping -c 1 -W 1 -w 2 "10.77.0.$2" >/dev/null 2>&1
	fi
}

# cluster_probe: whether this dlock and dlockctl do cluster mode.  0 if a
# node accepts a configuration; else 1 with the reason on stdout.
cluster_probe() {
	local out rc dir
	dir=$(mktemp -d)
	printf '[Cluster]\nId = 1\nListenPort = %s\n\n[Peer]\nId = 2\nEndpoint = 127.0.0.2:%s\n' \
		"$TOPO_PORT" "$TOPO_PORT" >"$dir/probe.conf"
	ip netns add dlkprobe || { echo "cannot create a namespace"; return 1; }
	out=$(ip netns exec dlkprobe "$DLOCKCTL" setconf "$dir/probe.conf" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		out=$(ip netns exec dlkprobe "$DLOCKCTL" -j cluster 2>&1) || rc=1
	fi
	ip netns del dlkprobe
	rm -rf "$dir"
	if [ "$rc" = 0 ]; then
		return 0
	fi
	echo "dlockctl setconf exits $rc: ${out//$'\n'/ }"
	return 1
}

# leader_of: the leader's node id as the live nodes see it (empty: none).
leader_of() {
	local k out
	for k in $(seq "$TOPO_N"); do
		[ -e "/run/netns/node$k" ] || continue
		out=$(nsx "$k" "$DLOCKCTL" -j cluster 2>/dev/null) || continue
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d.get("role")=="leader" else 1)' \
			"$out" 2>/dev/null && { echo "$k"; return 0; }
	done
	return 1
}

# wait_leader [SECONDS]: until some node says it leads.
wait_leader() {
	local _
	for _ in $(seq $((${1:-30} * 5))); do
		leader_of && return 0
		sleep 0.2
	done
	return 1
}

# wait_grants [SECONDS]: until node 1 (or the first live node) is granted
# a lock: after a cluster starts, a restart or an election, the lock-delay
# holds every grant back for a while.
wait_grants() {
	local k _ owner=topo-ready-$$
	for k in $(seq "$TOPO_N"); do [ -e "/run/netns/node$k" ] && break; done
	for _ in $(seq $((${1:-60} * 2))); do
		if nsx "$k" "$DLOCKCTL" lock topo-ready --ttl 5s --try --owner "$owner" >/dev/null 2>&1; then
			nsx "$k" "$DLOCKCTL" unlock topo-ready --owner "$owner" >/dev/null 2>&1
			return 0
		fi
		sleep 0.5
	done
	return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	: "${DLOCKCTL:=dlockctl}" "${WORKLOAD:=build/tests/cluster/workload}"
	[ $# -ge 1 ] || { echo "usage: topo.sh FUNCTION [ARGS...]" >&2; exit 2; }
	TOPO_N=${TOPO_N:-$(find /run/netns -maxdepth 1 -name 'node*' 2>/dev/null | wc -l)}
	"$@"
fi
