"""Medical actions as table rows: the ``procedures`` and ``treatments`` tables.

Profiles give a Phenopacket's ``medicalActions`` as the batch's ``extras`` (already
checked), each action a ``{"procedure": ...}`` or ``{"treatment": ...}``. A profile
marks where an action came from with :func:`with_source` (the submitter's file, sheet,
row and column); :func:`action_tables` takes that mark off again (the documents never
see it) and flattens every action into one row of its table. An action without a mark
takes its individual's row, and ``medicalActions[k]`` as its column.

>>> a = with_source({"treatment": {"agent": {"id": "RXNORM:1", "label": "x"}}}, "f.json", None, 3, "c")
>>> rows = action_rows("p1", [a], {"source_file": "f.json", "source_sheet": None, "source_row": 1})
>>> rows["treatments"][0]["agent_id"], rows["treatments"][0]["source_row"], "_source" in a
('RXNORM:1', 3, False)
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from harmonize.mapping import times

SOURCE = "_source"
_NO_SOURCE = {"source_file": None, "source_sheet": None, "source_row": None}


def with_source(
    action: dict[str, Any], file: str | None, sheet: str | None, row: int | None, column: str
) -> dict[str, Any]:
    """``action`` marked with where it came from (taken off by :func:`action_rows`)."""
    action[SOURCE] = {
        "source_file": file,
        "source_sheet": sheet,
        "source_row": row,
        "source_column": column,
    }
    return action


def _time(stem: str, obj: dict[str, Any] | None) -> dict[str, Any]:
    row = times.from_element(obj).as_row()
    return {times.column(stem, part): row[part] for part in times.PARTS}


def _class(obj: Any) -> tuple[str | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    return obj.get("id"), obj.get("label")


def action_rows(
    pid: Any, actions: list[dict[str, Any]], where: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of one Phenopacket's ``actions``; ``where`` is its individual's lineage."""
    out: dict[str, list[dict[str, Any]]] = {"procedures": [], "treatments": []}
    for k, action in enumerate(actions):
        if not isinstance(action, dict):
            continue
        source = action.pop(SOURCE, None) or {
            **_NO_SOURCE,
            **where,
            "source_column": f"medicalActions[{k}]",
        }
        procedure, treatment = action.get("procedure"), action.get("treatment")
        if isinstance(procedure, dict):
            code, label = _class(procedure.get("code"))
            site, site_label = _class(procedure.get("bodySite"))
            out["procedures"].append(
                {
                    "phenopacket_id": pid,
                    "term_id": code,
                    "term_label": label,
                    "body_site_id": site,
                    "body_site_label": site_label,
                    **_time("performed", procedure.get("performed")),
                    **source,
                }
            )
        if isinstance(treatment, dict):
            agent, agent_label = _class(treatment.get("agent"))
            route, route_label = _class(treatment.get("routeOfAdministration"))
            out["treatments"].append(
                {
                    "phenopacket_id": pid,
                    "agent_id": agent,
                    "agent_label": agent_label,
                    "route_id": route,
                    "route_label": route_label,
                    "drug_type": treatment.get("drugType"),
                    **source,
                }
            )
    return out


def action_tables(
    extras: dict[str, dict[str, Any]], individuals: pa.Table | None
) -> dict[str, pa.Table]:
    """The ``procedures`` and ``treatments`` rows of a batch's extras (marks taken off)."""
    where: dict[str, dict[str, Any]] = {}
    if individuals is not None and individuals.num_rows:
        names = ["phenopacket_id", *_NO_SOURCE]
        present = [n for n in names if n in individuals.column_names]
        for row in individuals.select(present).to_pylist():
            where.setdefault(row["phenopacket_id"], {k: row.get(k) for k in _NO_SOURCE})
    rows: dict[str, list[dict[str, Any]]] = {"procedures": [], "treatments": []}
    for pid, extra in extras.items():
        actions = extra.get("medicalActions")
        if isinstance(actions, list):
            for name, found in action_rows(pid, actions, where.get(pid, {})).items():
                rows[name] += found
    return {name: pa.Table.from_pylist(found) for name, found in rows.items() if found}
