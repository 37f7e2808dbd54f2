"""The rating scale: every status a claim can have, in one place.

Three groups:

* workflow states (``unverified``, ``in_review``): where a claim stands in
  the desk's work. They are never published as a ClaimReview.
* the ordered scale, worst to best: ``false`` (1), ``misleading`` (2),
  ``mixed`` (3), ``mostly_true`` (4), ``true`` (5). In ClaimReview a verdict
  on the scale carries ``ratingValue`` with ``worstRating`` 1 and
  ``bestRating`` 5, and its label as ``alternateName``.
* verdicts off the scale (``unsupported``): a finding that is not a degree
  of truth. In ClaimReview they carry only ``alternateName``, because
  aggregators read the label first and a number would claim an order that
  does not exist.

The admin, the reader pages, the API and the ClaimReview builder all read
this module; nothing else defines a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models

WORST_RATING = 1
BEST_RATING = 5


class Group(StrEnum):
    WORKFLOW = "workflow"
    SCALE = "scale"
    OFF_SCALE = "off_scale"


@dataclass(frozen=True)
class Rating:
    value: str
    label: str
    group: Group
    description: str
    rating_value: int | None = None

    @property
    def css_class(self) -> str:
        return f"status-{self.value.replace('_', '-')}"

    @property
    def scale_position(self) -> str:
        """ "2 of 5" for verdicts on the scale, "" otherwise: text, so colour is never alone."""
        if self.rating_value is None:
            return ""
        return f"{self.rating_value} of {BEST_RATING}"

    @property
    def is_verdict(self) -> bool:
        """A verdict is a finding about the claim, as opposed to a workflow state."""
        return self.group is not Group.WORKFLOW

    def as_data(self) -> dict:
        """The status as the API shows it: its place on the scale and the scale's bounds."""
        on_scale = self.rating_value is not None
        return {
            "value": self.value,
            "label": self.label,
            "group": self.group.value,
            "rating_value": self.rating_value,
            "scale_position": self.scale_position,
            "best_rating": BEST_RATING if on_scale else None,
            "worst_rating": WORST_RATING if on_scale else None,
        }

    def claimreview_rating(self) -> dict | None:
        """schema.org Rating for this status, or None for workflow states."""
        if not self.is_verdict:
            return None
        rating: dict = {"@type": "Rating", "alternateName": self.label, "name": self.label}
        if self.rating_value is not None:
            rating.update(
                ratingValue=self.rating_value, bestRating=BEST_RATING, worstRating=WORST_RATING
            )
        return rating


RATINGS: tuple[Rating, ...] = (
    Rating(
        "unverified",
        "Not yet verified",
        Group.WORKFLOW,
        "Recorded from a source; nobody has checked it yet.",
    ),
    Rating("in_review", "In review", Group.WORKFLOW, "An editor is checking it now."),
    Rating(
        "true",
        "True",
        Group.SCALE,
        "Accurate, and nothing significant is missing.",
        rating_value=5,
    ),
    Rating(
        "mostly_true",
        "Mostly true",
        Group.SCALE,
        "Accurate, but needs clarification or additional information.",
        rating_value=4,
    ),
    Rating(
        "mixed",
        "Mixed",
        Group.SCALE,
        "Partly accurate and partly inaccurate.",
        rating_value=3,
    ),
    Rating(
        "misleading",
        "Misleading",
        Group.SCALE,
        "Contains an element of truth but leaves a false impression.",
        rating_value=2,
    ),
    Rating("false", "False", Group.SCALE, "Inaccurate.", rating_value=1),
    Rating(
        "unsupported",
        "Unsupported",
        Group.OFF_SCALE,
        "No available evidence supports or refutes it.",
    ),
)

BY_VALUE: dict[str, Rating] = {rating.value: rating for rating in RATINGS}

# django-stubs model the functional API with one value or one (value, label) only.
Status = models.TextChoices(  # type: ignore[call-overload]
    "Status", [(rating.value.upper(), (rating.value, rating.label)) for rating in RATINGS]
)

INITIAL_STATUS = Status.UNVERIFIED
# Where a claim stands in the desk's work, as opposed to a verdict.
WORKFLOW_STATUSES = frozenset(r.value for r in RATINGS if r.group is Group.WORKFLOW)
VERDICT_STATUSES = frozenset(r.value for r in RATINGS if r.is_verdict)


def get_rating(value: str) -> Rating:
    try:
        return BY_VALUE[value]
    except KeyError:
        raise ValueError(
            f"{value!r} is not a status; choose one of {', '.join(BY_VALUE)}"
        ) from None
