"""The topics Harmonize uses.

>>> SUBMISSIONS, RESULTS, DLQ
('harmonize.submissions', 'harmonize.results', 'harmonize.submissions.dlq')
"""

from __future__ import annotations

SUBMISSIONS = "harmonize.submissions"  # submission.created, keyed (partitioned) by submission id
RESULTS = "harmonize.results"  # submission.published | submission.rejected
DLQ = "harmonize.submissions.dlq"  # submission.dead_lettered: the original plus the reason
