"""Stand-in for the GitHub CLI's `gh attestation verify` in act runs (GitHub-hosted runners ship gh; this machine has none).

The real command fetches the artifact's attestations from GitHub and checks their Sigstore signatures and
certificates (signer workflow, source ref and digest) against the flags. Offline there is no Sigstore, and the
act stand-in of attest-build-provenance stores unsigned bundles: this one checks what can be checked here, that
GitHub (the double) holds an attestation whose in-toto subject is this file's sha256, and that the caller pinned
the identity flags; it records every call (one line of arguments) for the tests. It proves nothing about
signatures, and says so.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gh")
    parser.add_argument("--api", required=True)  # the double's API, from run_act (gh itself would use GH_HOST)
    parser.add_argument("--record", required=True)
    parser.add_argument("command", nargs=2)
    parser.add_argument("artifact")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--signer-workflow", required=True)
    parser.add_argument("--source-ref", required=True)
    parser.add_argument("--source-digest", default="")
    args = parser.parse_args(argv)
    with open(args.record, "a", encoding="utf-8") as record:
        record.write(" ".join(argv[4:]) + "\n")
    if args.command != ["attestation", "verify"]:
        print(f"gh stand-in: only `gh attestation verify` is stood in for, not {' '.join(args.command)}", file=sys.stderr)
        return 1
    with open(args.artifact, "rb") as artifact:
        digest = hashlib.sha256(artifact.read()).hexdigest()
    request = urllib.request.Request(
        f"{args.api}/repos/{args.repo}/attestations/sha256:{digest}",
        headers={"Authorization": f"Bearer {os.environ['GH_TOKEN']}", "Accept": "application/vnd.github+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            found = json.load(response)["attestations"]
    except urllib.error.HTTPError as error:
        print(f"Error: failed to fetch attestations from {args.repo}: HTTP {error.code}", file=sys.stderr)
        return 1
    for attestation in found:
        envelope = attestation.get("bundle", {}).get("dsseEnvelope", {})
        statement = json.loads(base64.b64decode(envelope.get("payload", "")) or "{}")
        if any(subject.get("digest", {}).get("sha256") == digest for subject in statement.get("subject", [])):
            print(f"gh stand-in: an attestation of sha256:{digest} exists in {args.repo} (signatures not checked offline)")
            return 0
    print(f"Error: no attestation of sha256:{digest} in {args.repo} matched", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
