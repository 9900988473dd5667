#!/bin/sh
# Side-by-side benchmark of ccdir and OpenLDAP slapd, in one command:
#
#   bench/run.sh                 # the 100k set: every workload at 1, 8 and 32 connections
#   bench/run.sh --smoke         # a few seconds on tiny data (checks that the harness runs)
#   ENTRIES=1000000 bench/run.sh --bulk-only   # import / export at 1M
#   bench/run.sh --only repl     # replication (issue 16): full refresh, persist lag, provider
#                                # cost of persist consumers, ccdir and slapd side by side
#   bench/run.sh --baseline-rev main~1  # also an earlier commit's build, in the same run
#                                       # (or BASELINE=main~1 bench/run.sh)
#
# Installs Debian's slapd (with its argon2 module), ldap-utils and GNU time when missing
# (needs root, or sudo), builds ccdir in release mode and runs benches/throughput.rs. The
# latest-run section of docs/benchmarks.md and docs/benchmarks.json are rewritten; extra
# arguments go to the harness (see benches/throughput.rs).
#
# With a baseline revision, that commit is checked out in a temporary git worktree under
# target/, its ccdir binary built (CARGO_TARGET_DIR target/baseline-build, seeded once from
# this checkout's release build) and kept as target/baseline-<commit>/ccdir for later runs;
# the harness then measures this build, the baseline and slapd side by side.
set -eu
cd "$(dirname "$0")/.."

# --baseline-rev REV (or BASELINE=REV) is for this script; everything else goes to the harness.
BASELINE="${BASELINE:-}"
take=0
for arg do
    shift
    if [ "$take" -eq 1 ]; then
        BASELINE="$arg"
        take=0
        continue
    fi
    case "$arg" in
        --baseline-rev) take=1; continue ;;
        --baseline-rev=*) BASELINE="${arg#--baseline-rev=}"; continue ;;
    esac
    set -- "$@" "$arg"
done
[ "$take" -eq 0 ] || { echo "--baseline-rev needs a revision" >&2; exit 2; }

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

if [ -n "$BASELINE" ]; then
    rev=$(git rev-parse --verify --quiet "$BASELINE^{commit}") \
        || { echo "baseline $BASELINE: not a commit" >&2; exit 2; }
    short=$(git rev-parse --short=12 "$rev")
    bbin="target/baseline-$short/ccdir"
    if [ ! -x "$bbin" ]; then
        echo "building the baseline $short ($BASELINE) ..." >&2
        # This checkout's release build first, so that the baseline's can start from a copy of
        # its dependencies.
        cargo bench --bench throughput --no-run
        btarget="$PWD/target/baseline-build"
        if [ ! -d "$btarget" ] && [ -d target/release ]; then
            mkdir -p "$btarget"
            cp -a target/release "$btarget/release"
        fi
        src="$PWD/target/baseline-$short/src"
        git worktree remove --force "$src" 2>/dev/null || rm -rf "$src"
        git worktree prune
        git worktree add --quiet --detach "$src" "$rev"
        trap 'git worktree remove --force "$src"' EXIT
        trap 'git worktree remove --force "$src"; exit 130' INT TERM
        # Built the way `cargo bench` builds this checkout's binary: same profile, and the
        # dependencies' features unified with the dev-dependencies' (memchr's and futures-util's
        # differ otherwise). A revision whose bench does not build gets its binary alone.
        (
            cd "$src"
            export CARGO_TARGET_DIR="$btarget"
            cargo bench --bench throughput --no-run || {
                echo "baseline $short: its bench does not build; building the binary alone" \
                    "(dependency features may differ from this build's)" >&2
                cargo build --profile bench --bin ccdir
            }
        )
        cp "$btarget/release/ccdir" "$bbin.tmp"
        mv "$bbin.tmp" "$bbin"
        git worktree remove --force "$src"
        trap - EXIT INT TERM
    fi
    set -- --baseline "$PWD/$bbin" --baseline-label "$short ($BASELINE)" "$@"
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
