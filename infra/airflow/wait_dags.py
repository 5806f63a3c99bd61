"""Wait until the DAG processor has parsed the given DAGs, then unpause them.

Run by infra/airflow.sh with the Airflow environment; one process instead of one slow
``airflow dags unpause`` per DAG. Exit 1 when the DAGs do not appear in time.
"""

from __future__ import annotations

import sys
import time


def main(timeout_s: float, dag_ids: list[str]) -> int:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with create_session() as session:
            found = session.query(DagModel).filter(DagModel.dag_id.in_(dag_ids)).all()
            if len(found) == len(dag_ids):
                for dag in found:
                    dag.is_paused = False
                return 0
        time.sleep(1)
    print(f"DAGs not parsed in {timeout_s:.0f} s: {dag_ids}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), sys.argv[2:]))
