"""The pages: list with filters and counts, a submission's findings, access, escaping."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from .conftest import CURATOR, SUBMITTER_A, SUBMITTER_B, Env, add_submission, finding


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-submission="([^"]+)"', html)


def test_list_shows_counts_and_filters(seeded: Env) -> None:
    client = seeded.client(CURATOR)
    page = client.get("/dashboard/submissions")
    assert page.status_code == 200
    assert rows(page.text) == ["b-secret", "a-bad", "a-good"]  # newest first
    bad = page.text.split('data-submission="a-bad"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(\d+)</td>', bad)
    assert cells == ["4", "16", "8", "1"]  # individuals, features, errors, warnings
    assert rows(client.get("/dashboard/submissions?status=rejected").text) == ["b-secret", "a-bad"]
    assert rows(client.get("/dashboard/submissions?submitter=Clinic+B").text) == ["b-secret"]
    assert rows(client.get("/dashboard/submissions?dataset=clinic-a").text) == ["a-bad", "a-good"]
    assert rows(client.get("/dashboard/submissions?since=2000-01-01&until=2000-12-31").text) == []
    assert client.get("/dashboard/submissions?since=yesterday").status_code == 400


def test_date_filter_and_pages(env: Env) -> None:
    for i in range(7):
        add_submission(env, f"s{i}", received_at=datetime(2026, 1 + i, 15, tzinfo=UTC))
    env.app.state.dashboard.settings.page_size = 3
    client = env.client(CURATOR)
    assert rows(client.get("/dashboard/submissions?since=2026-03-01&until=2026-04-30").text) == [
        "s3",
        "s2",
    ]
    first = client.get("/dashboard/submissions")
    assert rows(first.text) == ["s6", "s5", "s4"] and "offset=3" in first.text
    assert rows(client.get("/dashboard/submissions?offset=6").text) == ["s0"]


def test_submission_page_groups_findings_down_to_the_cell(seeded: Env) -> None:
    page = seeded.client(CURATOR).get("/dashboard/submissions/a-bad")
    assert page.status_code == 200
    group = page.text.split('data-category="missing-required-field"')[1].split("</article>")[0]
    assert '<span class="count">8</span>' in group
    assert group.count('class="example"') == 5 and "and 3 more" in group
    assert '<td class="num" data-testid="row">2</td>' in group
    assert '<td data-testid="column">sex</td>' in group
    # errors are listed before warnings
    assert page.text.index("missing-required-field") < page.text.index("inexact-term-match")
    history = page.text.split('data-testid="history"')[1]
    assert history.index("received") < history.index("rejected")
    assert 'href="/dashboard/reports/a-bad/report.html"' in page.text


def test_submitter_sees_only_their_own(seeded: Env) -> None:
    client = seeded.client(SUBMITTER_A)
    assert rows(client.get("/dashboard/submissions").text) == ["a-bad", "a-good"]
    assert rows(client.get("/dashboard/submissions?submitter=Clinic+B").text) == []
    other = client.get("/dashboard/submissions/b-secret")
    assert other.status_code == 404 and "alert(1)" not in other.text
    assert client.get("/dashboard/reports/b-secret/report.html").status_code == 404
    assert client.get("/dashboard/review").status_code == 403
    assert client.get("/dashboard/audit").status_code == 403
    api = client.get("/dashboard/api/submissions").json()
    assert {s["id"] for s in api["submissions"]} == {"a-good", "a-bad"} and api["total"] == 2


def test_bearer_token_for_api_use(seeded: Env) -> None:
    client = seeded.client()
    ok = client.get("/dashboard/api/submissions", headers={"Authorization": f"Bearer {CURATOR}"})
    assert ok.status_code == 200 and ok.json()["total"] == 3
    bad = client.get("/dashboard/api/submissions", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert client.get("/dashboard/submissions").status_code == 303  # to the sign-in page


def test_controlled_values_are_masked_outside_the_dataset(seeded: Env) -> None:
    # Clinic B submitted to clinic-b, a dataset it is a member of: it sees its values
    own = seeded.client(SUBMITTER_B).get("/dashboard/submissions/b-secret")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in own.text
    # a submitter outside the dataset who submitted to it anyway sees no value
    add_submission(
        seeded,
        "a-into-b",
        submitter="Clinic A",
        dataset="clinic-b",
        access="controlled",
        findings=[finding("malformed-age", value="P999Y-secret", column="age")],
    )
    client = seeded.client(SUBMITTER_A)
    masked = client.get("/dashboard/submissions/a-into-b")
    assert masked.status_code == 200
    assert "P999Y-secret" not in masked.text and "[controlled]" in masked.text
    assert client.get("/dashboard/reports/a-into-b/report.json").status_code == 404
    assert "P999Y-secret" in seeded.client(CURATOR).get("/dashboard/submissions/a-into-b").text


def test_submitter_values_are_escaped(seeded: Env) -> None:
    page = seeded.client(CURATOR).get("/dashboard/submissions/b-secret")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    add_submission(seeded, "<img src=x onerror=alert(2)>", submitter="<b>evil</b>")
    listing = seeded.client(CURATOR).get("/dashboard/submissions").text
    assert "<img src=x" not in listing and "<b>evil</b>" not in listing
    assert "&lt;b&gt;evil&lt;/b&gt;" in listing


def test_report_files_stay_inside_the_report_directory(seeded: Env) -> None:
    client = seeded.client(CURATOR)
    assert client.get("/dashboard/reports/a-bad/report.html").status_code == 200
    (seeded.workspace / "secret.txt").write_text("nope")
    for path in ("..%2F..%2Fsecret.txt", "../../secret.txt", "%2E%2E/%2E%2E/secret.txt"):
        refused = client.get(f"/dashboard/reports/a-bad/{path}")
        assert refused.status_code in (400, 404) and "nope" not in refused.text


def test_unknown_submission_is_404(seeded: Env) -> None:
    assert seeded.client(CURATOR).get("/dashboard/submissions/nope").status_code == 404


def test_static_assets_are_local(seeded: Env) -> None:
    client = seeded.client(CURATOR)
    page = client.get("/dashboard/submissions").text
    assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', page)
    assert assets == ["/dashboard/static/dashboard.css"]
    assert client.get(assets[0]).status_code == 200
    assert "http://" not in page and "https://" not in page


def test_links_to_data_docs_and_drs(seeded: Env) -> None:
    report_dir = seeded.pipeline.reports_dir / "a-bad"
    docs = report_dir / "data-docs" / "raw-tabular__cases.csv.html"
    docs.parent.mkdir()
    docs.write_text("<html><body>expectations</body></html>")
    path = report_dir / "report.json"
    report = json.loads(path.read_text())
    report["data_docs"] = [str(docs), "/elsewhere/outside.html"]
    path.write_text(json.dumps(report))
    client = seeded.client(CURATOR)
    page = client.get("/dashboard/submissions/a-bad").text
    links = re.findall(r'href="([^"]+)" data-testid="data-docs"', page)
    assert links == ["/dashboard/reports/a-bad/data-docs/raw-tabular__cases.csv.html"]
    served = client.get(links[0])
    assert served.status_code == 200 and "expectations" in served.text
    assert "sandbox" in served.headers["content-security-policy"]
    # a published submission links its DRS bundle
    store = seeded.store
    sha = store.versions("a-good")[0]["manifest_sha256"]
    store.set_status("a-good", sha, "published", bundle_id="hzb" + "a" * 32)
    good = client.get("/dashboard/submissions/a-good").text
    assert 'href="/ga4gh/drs/v1/objects/hzb' + "a" * 32 + '" data-testid="drs-bundle"' in good


def test_a_submission_never_published_has_no_versions_table(seeded: Env) -> None:
    page = seeded.client(CURATOR).get("/dashboard/submissions/a-bad")
    assert page.status_code == 200 and "Published versions" not in page.text


def test_a_report_without_findings_says_so(seeded: Env) -> None:
    client = seeded.client(CURATOR)
    good = client.get("/dashboard/submissions/a-good").text
    assert 'data-testid="no-findings">No findings.' in good
    assert "No findings." not in client.get("/dashboard/submissions/a-bad").text


def test_an_offset_past_the_database_integer_is_a_bad_request(seeded: Env) -> None:
    """Schemathesis found: ``GET /dashboard/api/submissions?offset=2**63`` answered 500
    (OverflowError: Python int too large to convert to SQLite INTEGER)."""
    client = seeded.client(CURATOR)
    for path in ("/dashboard/api/submissions", "/dashboard/submissions"):
        assert client.get(f"{path}?offset={2**63}").status_code == 400
        assert client.get(f"{path}?offset={10**30}").status_code == 400
    last = client.get(f"/dashboard/api/submissions?offset={2**63 - 1}")
    assert last.status_code == 200 and last.json()["submissions"] == []
