"""DKIM for tests/it/spf_dkim.rs, with dkimpy (Debian python3-dkim), an implementation other than
the list server's opendkim: a member's mail server signing its post, and a recipient checking
the signatures of the message it got, their keys asked of the test's DNS server.

  dkimpy_tool.py sign KEYFILE DOMAIN SELECTOR < message     the message with a DKIM-Signature on top
  dkimpy_tool.py verify NAMESERVER < message                one line per signature, topmost first:
                                                     "<d> <s> pass" or "<d> <s> fail <why>"
"""

import sys

import dkim
import dns.resolver


def main():
    message = sys.stdin.buffer.read()
    if sys.argv[1] == "sign":
        key, domain, selector = sys.argv[2:5]
        with open(key, "rb") as f:
            private = f.read()
        header = dkim.sign(
            message,
            selector.encode(),
            domain.encode(),
            private,
            include_headers=[b"from", b"to", b"subject", b"x-ccdir-test"],
        )
        sys.stdout.buffer.write(header + message)
        return
    if sys.argv[1] != "verify":
        sys.exit("usage: dkimpy_tool.py sign KEY DOMAIN SELECTOR | verify NAMESERVER")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [sys.argv[2]]

    def txt(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        try:
            answer = resolver.resolve(name, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    d = dkim.DKIM(message, minkey=1024)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    for idx, value in enumerate(sigs):
        tags = dkim.util.parse_tag_value(b"".join(value.split()))
        name = b"%s %s" % (tags.get(b"d", b"?"), tags.get(b"s", b"?"))
        try:
            ok = d.verify(idx=idx, dnsfunc=txt)
            why = b""
        except dkim.DKIMException as e:
            ok, why = False, str(e).encode()
        line = name + (b" pass" if ok else b" fail " + why)
        sys.stdout.buffer.write(line.replace(b"\n", b" ") + b"\n")


main()
