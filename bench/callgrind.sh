#!/usr/bin/env bash
# Instructions per search, this build against another ccdir binary, counted by callgrind:
# repeatable whatever else the machine is doing (docs/benchmarks.md, "What the counters ...").
#
#   bench/callgrind.sh target/baseline-506f7a2a5320/ccdir         # equality searches
#   MODE=sub N=1000 bench/callgrind.sh target/baseline-<commit>/ccdir
#
# The baseline binary is one bench/run.sh --baseline-rev built. Needs valgrind and python3-ldap.
# Each server runs under callgrind with instrumentation off; the client binds, warms up, then
# turns it on around N searches (callgrind_control -i on|off), so start-up, the bind's argon2
# and shutdown are not counted.
set -euo pipefail
other="${1:?usage: bench/callgrind.sh OTHER_CCDIR_BINARY}"
MODE="${MODE:-eq}" N="${N:-2000}" ENTRIES="${ENTRIES:-20000}"
cd "$(dirname "$0")/.."
cargo build --release --bin ccdir -q
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp target/release/ccdir "$work/this"; cp "$other" "$work/other"
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=localhost >/dev/null 2>&1 </dev/null
hash="$(printf secret | ./this hash-password)"
printf 'dn: dc=cctld-ir,dc=example\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: cctld-ir\no: bench\n\ndn: cn=admin,dc=cctld-ir,dc=example\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: admin\nuserPassword: %s\n' "$hash" > base.ldif
./this gen-sample --count "$ENTRIES" -o people.ldif
idx=(--set 'index.eq=["objectClass","uid","cn","sn","givenName","mail"]' --set 'index.sub=["cn"]')
cat > client.py <<'PY'
import ldap, os, random, subprocess, sys
url, n, vp, mode, entries = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
c = ldap.initialize(url)
c.simple_bind_s("cn=admin,dc=cctld-ir,dc=example", "secret")
r = random.Random(7)
def one():
    if mode == "eq":
        res = c.search_s("ou=people,dc=cctld-ir,dc=example", ldap.SCOPE_SUBTREE, "(uid=user%d)" % r.randrange(entries))
        assert len(res) == 1, res
    else:
        try:
            c.search_ext_s("ou=people,dc=cctld-ir,dc=example", ldap.SCOPE_SUBTREE, "(cn=*%d*)" % r.randrange(1000, 10000), sizelimit=50)
        except ldap.SIZELIMIT_EXCEEDED:
            pass
for _ in range(20): one()
subprocess.run(["callgrind_control", "-i", "on", vp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
for _ in range(n): one()
subprocess.run(["callgrind_control", "-i", "off", vp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
PY
port=$((20000 + RANDOM % 20000))
for b in this other; do
    ./$b import -q --data-dir "d-$b" "${idx[@]}" base.ldif people.ldif >/dev/null
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="cg.$b" \
        ./$b serve --data-dir "d-$b" "${idx[@]}" --tls-cert cert.pem --tls-key key.pem \
        --ldap-listen 127.0.0.1:$port --ldaps-listen 127.0.0.1:$((port + 1)) --log-level warn \
        --set password.require_tls=false >"log.$b" 2>&1 &
    vp=$!
    for _ in $(seq 1 120); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 1
    done
    /usr/bin/python3 client.py "ldap://127.0.0.1:$port" "$N" "$vp" "$MODE" "$ENTRIES"
    kill -INT $vp; wait $vp || true
    port=$((port + 2))
done
this=$(sed -n 's/.*Collected : //p' log.this); other=$(sed -n 's/.*Collected : //p' log.other)
echo "$MODE search, $N operations, $ENTRIES entries: instructions per operation"
echo "  this build: $((this / N))   $1: $((other / N))   ratio $(awk "BEGIN{printf \"%.3f\", $this/$other}")"
[ "${KEEP:-0}" = 1 ] && echo "  profiles kept: callgrind_annotate $work/cg.this (and cg.other)"
if [ "${KEEP:-0}" = 1 ]; then trap - EXIT; fi
