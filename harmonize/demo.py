"""``make demo``: ingest the bundled real submissions, one of them through the event path
(``harmonize submit`` and a worker), then show a DRS object through the API.

Runs on embedded defaults only: a fresh ``demo-workspace/``, SQLite, local files and the
local event log instead of Kafka.
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
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "data" / "submissions"
DEMO = ("aire-aps1", "suox-isod", "clinic-tabular", "fbxl4-phenopackets")
VIA_EVENTS = "clinic-tabular"  # submitted as an event and processed by a worker


def _table_rows(workspace: Path) -> dict[str, int]:
    """Rows per published table, as the current publication has them."""
    from harmonize.drs.registry import Registry
    from harmonize.settings import Settings
    from harmonize.warehouse import TABLES, Warehouse, current

    settings = Settings(workspace=workspace)
    registry = Registry(settings.registry)
    try:
        view = current(registry)
        store = Warehouse.of(settings)
        return {name: store.read(name, view, columns=["submission_id"]).num_rows for name in TABLES}
    finally:
        registry.dispose()


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


def _show_rejection(console: Console, report_json: Path) -> None:
    report = json.loads(report_json.read_text())
    for f in [f for f in report["findings"] if f["level"] == "error"][:5]:
        loc = f["location"]
        where = f"{loc.get('file')}, row {loc.get('row')}, column {loc.get('column')!r}"
        console.print(f"  [red]{f['category']}[/red] at {where}: {f['message']}")
        if f.get("hint"):
            console.print(f"    what to do: {f['hint']}")


def _via_events(console: Console, settings: Any, bundles: dict[str, str]) -> bool:
    """The event-driven path without a broker: submit to the landing store and the local
    event log, let a worker process it, and read the result event it announced."""
    from harmonize.events import RESULTS, open_bus, parse_envelope, result_data
    from harmonize.intake.submit import submit
    from harmonize.orchestrate.worker import run_worker

    console.print(f"\n[bold]Event path[/bold]: harmonize submit {VIA_EVENTS}, then a worker")
    bus = open_bus(settings.events)
    try:
        created = submit(SUBMISSIONS / VIA_EVENTS, settings, bus=bus)
        console.print(
            f"  submission.created on harmonize.submissions: {created.submission_id}, "
            f"manifest {created.manifest_uri}"
        )
        stats = run_worker(settings, bus, once=True)
        results = [
            result_data(parse_envelope(message.value))
            for message in bus.consume(RESULTS, group="demo", timeout_s=1.0, max_messages=10)
        ]
    finally:
        bus.close()
    for result in results:
        console.print(
            f"  result on harmonize.results: {result.submission_id} {result.status}, "
            f"{result.object_count} DRS objects in bundle {result.bundle_id}"
        )
        if result.bundle_id:
            bundles[result.submission_id] = result.bundle_id
    ok = len(stats.processed) == 1 and [r.status for r in results] == ["published"]
    if not ok:
        console.print(f"[red]expected one published result, got {results}[/red]")
    return ok


def main(workspace: Path = ROOT / "demo-workspace") -> int:
    from harmonize.pipeline import ingest
    from harmonize.settings import Settings

    console = Console() if Console().is_terminal else Console(width=120)
    shutil.rmtree(workspace, ignore_errors=True)
    strict = Settings(workspace=workspace)
    summary = Table(title="Ingested submissions")
    for column in (
        "submission",
        "on_conflict",
        "status",
        "individuals",
        "features",
        "errors",
        "warnings",
    ):
        summary.add_column(column)
    bundles: dict[str, str] = {}
    runs = [("aire-aps1", strict, "rejected")]
    # the data centre's lenient policy: keep an observed term, drop its contradicting exclusion
    lenient = strict.model_copy(update={"on_conflict": "keep-observed"})
    runs += [("aire-aps1", lenient, "published")]
    runs += [(name, strict, "published") for name in DEMO if name not in ("aire-aps1", VIA_EVENTS)]
    for name, settings, expected in runs:
        policy = settings.on_conflict
        console.print(f"ingesting [bold]{name}[/bold] ({policy}) ...")
        result = ingest(SUBMISSIONS / name, settings)
        f = result.findings
        summary.add_row(
            result.submission_id,
            policy,
            result.status,
            f"{result.counts.get('individuals', 0):,}",
            f"{result.counts.get('phenotypic_features', 0):,}",
            str(f.get("error", 0)),
            str(f.get("warning", 0)),
        )
        if result.status == "rejected" and result.report_json:
            console.print(f"[yellow]{name} rejected[/yellow]; report {result.report_html}")
            _show_rejection(console, result.report_json)
        if result.bundle_id:
            bundles[result.submission_id] = result.bundle_id
        if result.status != expected:
            console.print(
                f"[red]{name}: expected {expected}, got {result.status}[/red]: {result.message}"
            )
            console.print(summary)
            return 1
    console.print(summary)
    if not _via_events(console, strict, bundles):
        return 1
    published = workspace / "published"
    console.print("\n[bold]Published[/bold] under", published)
    for sub in sorted((published / "phenopackets").iterdir()):
        for version in sorted(sub.iterdir()):
            files = len(list(version.iterdir()))
            console.print(f"  phenopackets/{sub.name}/{version.name}/  ({files} files)")
    console.print("  tables/ (Delta Lake; `harmonize tables -w demo-workspace` lists them):")
    for name, rows in _table_rows(workspace).items():
        console.print(f"    {name}: {rows:,} rows")
    console.print(f"  quality reports: {workspace / 'reports'}/<submission>/report.html")

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
