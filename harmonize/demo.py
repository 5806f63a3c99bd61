"""``make demo``: ingest the bundled real submissions, then show a DRS object through the API.

Runs on embedded defaults only: a fresh ``demo-workspace/``, SQLite, local files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"
DEMO = ("aire-aps1", "suox-isod", "clinic-tabular", "fbxl4-phenopackets")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> bytes:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def main(workspace: Path = ROOT / "demo-workspace") -> int:
    from harmonize.pipeline import ingest
    from harmonize.settings import Settings

    console = Console()
    shutil.rmtree(workspace, ignore_errors=True)
    settings = Settings(workspace=workspace)
    summary = Table(title="Ingested submissions")
    for column in (
        "submission",
        "profile",
        "status",
        "individuals",
        "features",
        "findings",
        "report",
    ):
        summary.add_column(column)
    bundles: dict[str, str] = {}
    for name in DEMO:
        console.print(f"ingesting [bold]{name}[/bold] ...")
        result = ingest(SUBMISSIONS / name, settings)
        manifest = (SUBMISSIONS / name / "manifest.yaml").read_text()
        profile = next(
            line.split(":", 1)[1].strip()
            for line in manifest.splitlines()
            if line.startswith("profile:")
        )
        f = result.findings
        summary.add_row(
            result.submission_id,
            profile,
            result.status,
            f"{result.counts.get('individuals', 0):,}",
            f"{result.counts.get('phenotypic_features', 0):,}",
            f"{f.get('error', 0)} errors, {f.get('warning', 0)} warnings",
            str(result.report_html.relative_to(ROOT)) if result.report_html else "",
        )
        if result.bundle_id:
            bundles[result.submission_id] = result.bundle_id
        if not result.ok:
            console.print(f"[red]{name} was rejected[/red]: {result.message}")
            console.print(summary)
            return 1
    console.print(summary)
    published = workspace / "published"
    console.print("\n[bold]Published[/bold] under", published)
    for sub in sorted((published / "phenopackets").iterdir()):
        console.print(f"  phenopackets/{sub.name}/  ({len(list(sub.iterdir()))} files)")
    for table in sorted((published / "tables").iterdir()):
        parts = ", ".join(p.name for p in sorted(table.iterdir()))
        console.print(f"  tables/{table.name}/  {parts}")

    port = _free_port()
    base = f"http://127.0.0.1:{port}/ga4gh/drs/v1"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harmonize.cli",
            "serve",
            "--workspace",
            str(workspace),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                info = json.loads(_get(f"{base}/service-info"))
                break
            except OSError:
                if server.poll() is not None:
                    console.print("[red]the DRS server did not start[/red]")
                    console.print(server.stderr.read().decode() if server.stderr else "")
                    return 1
                time.sleep(0.2)
        else:
            console.print("[red]the DRS server did not answer[/red]")
            return 1
        console.print(
            f"\n[bold]DRS service[/bold] at {base}: {info['drs']['objectCount']} objects, "
            f"{info['drs']['totalObjectSize']:,} bytes"
        )
        bundle = json.loads(_get(f"{base}/objects/{bundles['aire-aps1']}"))
        console.print(
            f"bundle {bundle['id']} ({bundle['name']}): {len(bundle['contents'])} objects"
        )
        member = next(
            c
            for c in bundle["contents"]
            if c["name"].endswith(".json") and c["name"].startswith("PMID")
        )
        obj = json.loads(_get(f"{base}/objects/{member['id']}"))
        console.print_json(json.dumps(obj))
        access = next(m for m in obj["access_methods"] if m.get("access_id"))
        url = json.loads(_get(f"{base}/objects/{obj['id']}/access/{access['access_id']}"))["url"]
        data = _get(url)
        digest = hashlib.sha256(data).hexdigest()
        expected = obj["checksums"][0]["checksum"]
        verdict = "[green]matches[/green]" if digest == expected else "[red]DIFFERS[/red]"
        console.print(f"downloaded {len(data):,} bytes from {url}\nsha-256 {digest} {verdict}")
        return 0 if digest == expected else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
