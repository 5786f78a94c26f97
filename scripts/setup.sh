#!/usr/bin/env bash
# Installs what vdpd's lab, tests and tools need on a fresh Debian machine (run as root):
# Debian packages (lldpad as the reference peer, tshark/tcpdump as independent decoders,
# libpcap-dev + a compiler for the `cap` binding, nftables for loss injection, iproute2
# for namespaces) and the npm dependencies from the lockfile (npm ci also compiles TS).
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "vdpd setup: run as root (namespaces, raw sockets and apt-get need it)" >&2
		exit 1
	fi
}

PKGS=(lldpad tshark tcpdump libpcap-dev nftables iproute2 g++ make python3 procps util-linux coreutils chromium)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	need_root
	echo "vdpd setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci is skipped when node_modules already matches the lockfile (repeat runs stay fast).
stamp=node_modules/.vdpd-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	npm ci --no-audit --no-fund
	cp package-lock.json "$stamp"
else
	node scripts/build.mjs
fi
