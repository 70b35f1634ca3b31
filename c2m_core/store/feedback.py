"""Feedback on delivered variants, with the department each piece was routed to."""

from __future__ import annotations

import json

from sqlite_utils.migrations import Migrations

from ..feedback.records import Feedback
from .database import Area

migrations = Migrations("c2m.feedback")


@migrations()
def m001_feedback(db):
    db.execute(
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            variant_id INTEGER NOT NULL,
            customer TEXT NOT NULL,
            text TEXT NOT NULL,
            rating INTEGER CHECK (rating IS NULL OR (rating >= 1 AND rating <= 5)),
            tags TEXT NOT NULL,
            department TEXT NOT NULL,
            module TEXT,
            option TEXT,
            rule TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX feedback_department ON feedback (campaign_id, department, id)")


_COLUMNS = (
    "id, campaign_id, variant_id, customer, text, rating, tags, department, module, option, "
    "rule, created_at"
)


class FeedbackStore(Area):
    name = "feedback"
    migrations = migrations

    def insert(self, feedback: Feedback) -> Feedback:
        row = self.query_one(
            "INSERT INTO feedback (campaign_id, variant_id, customer, text, rating, tags, "
            "department, module, option, rule, created_at) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            [feedback.campaign_id, feedback.variant_id, feedback.customer, feedback.text,
             feedback.rating, json.dumps(list(feedback.tags), ensure_ascii=False),
             feedback.department, feedback.module, feedback.option, feedback.rule,
             self.store.now()],
        )  # fmt: skip
        assert row is not None
        return _feedback(row)

    def for_campaign(self, campaign_id: int, department: str | None = None) -> list[Feedback]:
        where = "campaign_id = ?"
        params: list = [campaign_id]
        if department is not None:
            where += " AND department = ?"
            params.append(department)
        rows = self.query(f"SELECT {_COLUMNS} FROM feedback WHERE {where} ORDER BY id", params)
        return [_feedback(row) for row in rows]

    def departments(self, campaign_id: int) -> dict[str, int]:
        rows = self.query(
            "SELECT department, COUNT(*) FROM feedback WHERE campaign_id = ? "
            "GROUP BY department ORDER BY department",
            [campaign_id],
        )
        return dict(rows)


def _feedback(row) -> Feedback:
    return Feedback(
        id=row[0],
        campaign_id=row[1],
        variant_id=row[2],
        customer=row[3],
        text=row[4],
        rating=row[5],
        tags=tuple(json.loads(row[6])),
        department=row[7],
        module=row[8],
        option=row[9],
        rule=row[10],
        created_at=row[11],
    )
