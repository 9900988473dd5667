#!/bin/sh
# Side-by-side benchmark of ccdir and OpenLDAP slapd, in one command:
#
#   bench/run.sh                 # the 100k set: every workload at 1, 8 and 32 connections
#   bench/run.sh --smoke         # a few seconds on tiny data (checks that the harness runs)
#   ENTRIES=1000000 bench/run.sh --bulk-only   # import / export at 1M
#
# Installs Debian's slapd (with its argon2 module), ldap-utils and GNU time when missing
# (needs root, or sudo), builds ccdir in release mode and runs benches/throughput.rs. The
# latest-run section of docs/benchmarks.md and docs/benchmarks.json are rewritten; extra
# arguments go to the harness (see benches/throughput.rs).
set -eu
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ! -x /usr/sbin/slapd ] || [ ! -e /usr/lib/ldap/argon2.so ] || [ ! -x /usr/bin/time ]; then
    echo "installing slapd, ldap-utils and time (the slapd service is not started) ..." >&2
    # Keep Debian's maintainer scripts from starting the system slapd.
    guard=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        guard=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO -E apt-get install -y -qq slapd ldap-utils time >/dev/null
    [ "$guard" -eq 0 ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

ENTRIES="${ENTRIES:-100000}"
PASSWORDS="${PASSWORDS:-1000}"
SECS="${SECS:-5}"
CONNS="${CONNS:-1,8,32}"
mkdir -p target
# Only a full run (not --smoke, --only, --bulk-only or --no-slapd) replaces the published figures.
case " $* " in
    *" --smoke "*|*" --only "*|*" --bulk-only "*|*" --no-slapd "*|*" --as-user "*)
        set -- --out target/bench-latest.md --json target/bench-latest.json "$@"
        echo "partial run: results go to target/bench-latest.md and .json" >&2 ;;
    *)
        set -- --out target/bench-latest.md --json docs/benchmarks.json \
            --docs docs/benchmarks.md "$@" ;;
esac
exec cargo bench --bench throughput -- \
    --entries "$ENTRIES" --passwords "$PASSWORDS" --secs "$SECS" --conns "$CONNS" "$@"
