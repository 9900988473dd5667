#!/usr/bin/env python3
"""Where a paced replicated change spends its time, stage by stage (docs/benchmarks.md,
"Replication (issue 16)", "Stage by stage").

    git apply bench/lagtrace.patch        # marks at each hand-off (not in the normal build)
    mkdir /tmp/lt && CCDIR_LAGTRACE=/tmp/lt cargo bench --bench throughput -- \
        --only repl --entries 10000 --secs 2 --repl-mods 1000
    git checkout -- src benches && rm src/lagtrace.rs
    python3 bench/lag_stages.py /tmp/lt CONSUMER_PID PROVIDER_PID BENCH_PID

Each process writes /tmp/lt/<pid>.log; the bench's has `ack` and `arrive`, the provider's
`pwake`, the ccdir -> ccdir consumer's `capplied` (the file with the most). For each paced
modify of the ccdir pair it finds the provider's commit, the persist wake-up and push, the
consumer's receipt, hand-off to its applier, apply, commit, its own persist wake-up and push,
and the arrival at the observer, and prints the median of each step.
"""
import glob,os,bisect,statistics as st,sys
d=sys.argv[1]; cons=sys.argv[2]; prov=sys.argv[3]; bench=sys.argv[4]
ev=[]
for f in glob.glob(d+'/*.log'):
    p=os.path.basename(f)[:-4]
    for l in open(f):
        t,w,n=l.split(); ev.append((int(t),p,w,int(n)))
ev.sort()
C=[e for e in ev if e[1]==cons]
lo,hi=C[0][0],C[-1][0]
acks=[e for e in ev if e[1]==bench and e[2]=='ack' and lo<=e[0]<=hi]
paced=[a for i,a in enumerate(acks) if i>0 and a[0]-acks[i-1][0]>5000]
print(len(acks),'acks in range,',len(paced),'paced')
ts=[e[0] for e in ev]
order=[(prov,'commit'),(bench,'ack'),(prov,'pwake'),(prov,'ppushed'),(cons,'crecv'),(cons,'cgot'),(cons,'capplied'),(cons,'commit'),(cons,'pwake'),(cons,'ppushed'),(bench,'arrive')]
rows=[]
for a in paced:
    j=bisect.bisect_left(ts,a[0]-5000); k=bisect.bisect_left(ts,a[0]+15000)
    win=ev[j:k]
    arr=[e for e in win if e[1]==bench and e[2]=='arrive' and e[3]==a[3] and e[0]>=a[0]]
    if not arr: continue
    R=arr[0][0]
    # provider commit: last before ack
    pc=[e for e in win if e[1]==prov and e[2]=='commit' and e[0]<=a[0]]
    if not pc: continue
    t=pc[-1][0]; pts=[('p.commit',t),('ack',a[0])]
    cur=t
    ok=True
    for who,what in order[2:-1]:
        c=[e for e in win if e[1]==who and e[2]==what and cur<=e[0]<=R]
        if not c: ok=False; break
        cur=c[0][0]; pts.append((who[:4]+'.'+what,cur))
    if not ok: continue
    pts.append(('arrive',R))
    rows.append(pts)
print(len(rows),'chains')
names=[n for n,_ in rows[0]]
for i in range(1,len(names)):
    ds=[r[i][1]-r[i-1][1] for r in rows]
    print(f"{names[i-1]:>16} -> {names[i]:<16} p50 {st.median(ds):7.0f} us  mean {st.mean(ds):7.0f}")
print('ack->arrive p50', st.median([r[-1][1]-r[1][1] for r in rows]))
print('p.commit->arrive p50', st.median([r[-1][1]-r[0][1] for r in rows]))
