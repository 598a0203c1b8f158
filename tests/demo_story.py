"""The GitHub half of ``python3 tasks.py demo``: a baked project's release and monitoring legs, run
against the GitHub REST API double on loopback (the one the tests use), printed as GitHub shows them.

After the demo's PR loop (validate → train → evaluate → report) this:

1. opens the first pull request in the double, posts the sticky report comment (`mlops comment`),
   merges it, and releases the model (`mlops release`): tag, release assets, deployment; then
   serves the release: `mlops champion` fetches and verifies it, `mlops predict` scores the data
   in batch, and `mlops serve` answers one row posted to /predict; when a Docker daemon answers, the
   release's serving image is built from the champion and smoke-tested (`mlops smoke-test`: /ready,
   the batch path's predictions from the container, a bad row refused), as release.yml does;
2. lands a production batch with a price rise in ``data/current/`` (the demo generator's
   ``--batch shifted``), runs the scheduled monitor (`mlops champion`, `mlops drift`,
   `mlops retrain-pr`) and prints its job summary; the first `retrain-pr` meets GitHub's default
   ("Allow GitHub Actions to create and approve pull requests" off) and says which setting to
   tick; once ticked, the next run prints the retraining pull request it opened, the
   data change on its branch, the pr workflow it dispatched, and the history on the reports branch;
3. runs the weekly DORA report (`mlops dora`) on the deployment the release made and prints the one
   tracking issue it keeps up to date.

Run by tasks.py with the template's tool venv: ``python -m tests.demo_story build/demo/churn-model``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.github_double import GitHubDouble

OWNER, REPO = "acme", "churn-model"
MERGED = hashlib.sha1(b"the demo's first merge").hexdigest()
RULE = "─" * 88
UV = str(Path(sys.executable).with_name("uv"))  # the tool venv's uv (tasks.py installs it there)


def say(message: str) -> None:
    print(f"» {message}", file=sys.stderr, flush=True)


def show(title: str, text: str) -> None:
    print(f"\n{RULE}\n{title}\n{RULE}\n{text.rstrip()}\n", flush=True)


def mlops(project: Path, *args: str, env: dict[str, str], expect: int = 0) -> subprocess.CompletedProcess:
    say("mlops " + " ".join(args))
    started = time.perf_counter()
    environment = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}}
    result = subprocess.run(
        [UV, "run", "--frozen", "--no-sync", "mlops", *args], cwd=project, env=environment | env, capture_output=True, text=True
    )
    sys.stderr.write(result.stderr)
    say(f"  ({time.perf_counter() - started:.1f} s)")
    if result.returncode != expect:
        raise SystemExit(f"`mlops {' '.join(args)}` exited {result.returncode}, expected {expect}")
    return result


def rows(content: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(content.decode()))) - 1


def main(project: Path) -> int:
    # A new personal repository as GitHub makes it: "Allow GitHub Actions to create and approve pull requests" is off.
    with GitHubDouble(owner=OWNER, repo=REPO) as github:
        data = {name: (project / name).read_bytes() for name in ("data/reference.csv", "data/manifest.json")}
        # The double stamps the release's deployment with the real clock: the merge lands a day and a half before it,
        # so that the DORA report's lead time reads as a team's would (not the months since a fixed date).
        merged_at = (datetime.now(UTC) - timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%SZ")
        github.add_commit(MERGED, merged_at, "Merge pull request #1 from acme/first-model", branch="main", files=data)
        github.add_workflows_from(project / ".github" / "workflows")
        github.add_pull(number=1, head_ref="first-model", head_sha=MERGED, title="First model")
        summary = project / "outputs" / "job-summary.md"
        env = {
            **github.api_env,
            "GITHUB_TOKEN": github.token,
            "GITHUB_REPOSITORY": github.full_name,
            "GITHUB_SHA": MERGED,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_RUN_ID": "1001",
            "GITHUB_STEP_SUMMARY": str(summary),
        }

        # The PR leg's comment, then the merge's release.
        pull_request = env | {"PR_NUMBER": "1", "PR_HEAD_SHA": MERGED}
        mlops(project, "report", env=pull_request)
        mlops(project, "comment", env=pull_request)
        mlops(project, "release", "--prepare", env=env)
        released = mlops(project, "release", env=env).stdout.strip()
        (release,) = github.releases
        (deployment,) = github.deployments
        show(
            "GitHub · Releases",
            f"{release['tag_name']} (latest) · {released}\n"
            f"assets: {', '.join(sorted(asset['name'] for asset in release['assets']))}\n"
            f"deployment to {deployment['environment']}: {deployment['statuses'][-1]['state']}",
        )

        # The release in service: the champion fetched and verified, scored in batch and online, then in its image.
        mlops(project, "champion", env=env)
        scored = mlops(project, "predict", "--input", "data/reference.csv", "--output", "outputs/predictions/reference.csv", env=env)
        row, answer = one_online_prediction(project)
        show(
            "Serving · the release, in batch and online",
            f"mlops predict: {scored.stdout.strip()}\nmlops serve: POST /predict {json.dumps({'rows': [row]})}\n  → {answer}",
        )
        serving_image(project, env)

        # A month later: production data with a price rise lands, and the scheduled monitor runs.
        current = project / "data" / "current"
        current.mkdir(parents=True, exist_ok=True)
        say("a production batch lands: data/current/2025-07-20.csv (a 25 % price rise)")
        subprocess.run(
            [UV, "run", "--frozen", "--no-sync", "python", "scripts/make_dataset.py", "--batch", "shifted", "--rows", "1500",
             "--seed", "11", "--start", "2025-07-20", "--out", "data/current/2025-07-20.csv"],
            cwd=project, check=True, env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        )  # fmt: skip
        summary.unlink(missing_ok=True)
        env |= {"GITHUB_RUN_ID": "1002"}
        mlops(project, "champion", env=env)
        mlops(project, "drift", env=env)
        show("GitHub · Actions · monitor · job summary", summary.read_text())
        refused = mlops(project, "retrain-pr", env=env, expect=2)
        show(
            "GitHub · Actions · monitor · retrain job (failed: the repository is as GitHub makes it)",
            refused.stderr.strip().splitlines()[-1],
        )
        say("the maintainer ticks Settings → Actions → General → Allow GitHub Actions to create and approve pull requests")
        github.actions_can_create_pull_requests = True
        said = mlops(project, "retrain-pr", env=env | {"GITHUB_RUN_ID": "1003"}).stdout.strip()
        retraining = [pull for pull in github.pulls if pull["head"]["ref"] == "mlops/retrain"]
        if not retraining:
            show("GitHub · Pull requests", said)
            return 0
        (pull,) = retraining
        body = pull["body"].split("<!-- mlops-retrain-head:")[0]
        files = github.files(pull["head"]["ref"])
        show(
            f"GitHub · Pull request #{pull['number']} · {pull['title']}",
            f"[{', '.join(label['name'] for label in pull['labels'])}] {pull['head']['ref']} → {pull['base']['ref']} · opened by "
            f"{pull['user']['login']}\n\n{body}\nFiles changed: data/reference.csv ({rows(data['data/reference.csv'])} → "
            f"{rows(files['data/reference.csv'])} rows), data/manifest.json",
        )
        (dispatch,) = github.dispatches
        history = github.files("mlops-reports")
        show(
            "GitHub · Actions",
            f"{dispatch['workflow']} dispatched on {dispatch['ref']} with {json.dumps(dispatch['inputs'])}: "
            "the PR leg now trains on the new snapshot and reports on the pull request.\n"
            f"Branch mlops-reports: {', '.join(sorted(history))} ({len(history['drift/history.jsonl'].splitlines())} run(s) of history)",
        )
        dora_report(project, github, env)
        assert github.violations == [], github.violations
    print(textwrap.dedent(f"\n{said}\n"))
    return 0


def one_online_prediction(project: Path) -> tuple[dict[str, object], str]:
    """`mlops serve` on a free loopback port: one row of the data posted to /predict once /ready says the model is loaded."""
    import urllib.request

    import yaml

    from tests.services import free_port, wait_until_answering

    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    with (project / data["path"]).open(newline="") as table:
        first = next(csv.DictReader(table))
    numeric = set(data["features"].get("numeric", []))
    features = [*data["features"].get("numeric", []), *data["features"].get("categorical", [])]
    row = {name: json.loads(first[name]) if name in numeric else first[name] for name in features if first[name] != ""}
    port = free_port()
    say(f"mlops serve --port {port}")
    environment = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}}
    server = subprocess.Popen(
        [UV, "run", "--frozen", "--no-sync", "mlops", "serve", "--port", str(port)],
        cwd=project, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(f"{url}/ready", server, 60, lambda: "`mlops serve` did not get ready within 60 s", interval=0.3)
        except RuntimeError as error:
            raise SystemExit(str(error)) from None
        request = urllib.request.Request(
            f"{url}/predict", data=json.dumps({"rows": [row]}).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return row, answer.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


def serving_image(project: Path, env: dict[str, str]) -> None:
    """The champion's serving image, built and smoke-tested as release.yml does, when a Docker daemon answers (else said, skipped)."""
    from tests import images

    client = images.daemon()
    if client is None:
        say("no Docker daemon answers: the serving image is skipped (as root, `bash .ci/docker up` starts one)")
        return
    try:
        base = images.base_image(client)  # a local Debian + python3 base (debootstrap, a few minutes once): no Docker Hub here
    except (RuntimeError, subprocess.CalledProcessError) as error:
        say(f"the serving image is skipped: no base image ({error})")
        return
    tag, started = f"{OWNER}/{REPO}:demo", datetime.now(UTC)
    extra_ca = images.machine_extra_ca(project / "outputs" / "extra-ca.pem")  # a TLS-intercepting proxy's CA, if any
    say(f"python3 scripts/build_image.py {tag}  (BASE_IMAGE={base})")
    clock = time.perf_counter()
    environment = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}}
    built = subprocess.run(
        [sys.executable, "scripts/build_image.py", tag], cwd=project, capture_output=True, text=True,
        env=environment | {"BASE_IMAGE": base, "EXTRA_CA_CERT_FILE": str(extra_ca)},
    )  # fmt: skip
    if built.returncode != 0:
        raise SystemExit(f"the image did not build:\n{(built.stdout + built.stderr)[-3000:]}")
    size = client.images.get(tag).attrs["Size"] / 1e6
    say(f"  ({time.perf_counter() - clock:.0f} s, {size:.0f} MB)")
    try:
        smoke = mlops(project, "smoke-test", tag, "--model-dir", "outputs/champion", env=env)
        show("Serving · the release's image (release.yml's smoke test)", f"{smoke.stdout.strip()} ({size:.0f} MB uncompressed)")
    finally:
        client.images.remove(tag, force=True)
        images.forget_earlier_builds(client, base, before=started)


def dora_report(project: Path, github: GitHubDouble, env: dict[str, str]) -> None:
    """The weekly DORA leg on the history this demo made (its release's production deployment): the tracking issue."""
    (project / "outputs" / "job-summary.md").unlink(missing_ok=True)
    mlops(project, "dora", "--window", "90d", env=env | {"GITHUB_RUN_ID": "1004"})
    (issue,) = [issue for issue in github.issues if "dora" in [label["name"] for label in issue["labels"]]]
    body = issue["body"].split("\n", 1)[1].split("<details>")[0]  # without the hidden marker and the definitions
    show(f"GitHub · Issue #{issue['number']} · {issue['title']} [dora] · updated by every weekly run", body)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
