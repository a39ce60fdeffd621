"""Checkout metrics of the RPC benchmark (Wei et al. 2019) plus detection and recognition diagnostics.

For image i and SKU k, P[i,k] is the predicted count (recognised boxes only: an unrecognised item is not billed)
and GT[i,k] the true count. With CD_i = sum_k |P[i,k] - GT[i,k]|:

- cAcc  = share of images with CD_i = 0 (every count right, no extra SKU);
- ACD   = mean over images of CD_i;
- mCCD  = mean over SKUs of sum_i |P[i,k] - GT[i,k]| / sum_i GT[i,k];
- mCIoU = mean over SKUs of sum_i min(P[i,k], GT[i,k]) / sum_i max(P[i,k], GT[i,k]).

The SKU means run over the SKUs present in the ground truth of the images evaluated (sum_i GT[i,k] > 0), as in
the paper, where every one of the K categories occurs in the test set; predictions of absent SKUs still count
in cAcc and ACD, and their number is reported as `extra_skus`.

Detection is class-agnostic (the detector finds "a product"): a predicted box matches the unmatched true box of
highest IoU >= 0.5, predictions taken best score first (COCO's greedy rule). AP50 is the area under the
precision-recall curve with the precision envelope (all-point interpolation); recall is the share of true items
matched. Recognition recall@1 is the share of matched true items whose predicted SKU is right.

Where each true item went (`ItemOutcomes`, shares of all true items): billed right, billed as a sibling (another SKU
of its family: the annotations' supercategory), billed as another product, matched by a box left unrecognised, or
matched by no box.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from trayscan.boxes import MATCH_IOU, iou_matrix, part_and_group_boxes
from trayscan.evaluation.data import LEVELS, Box, Tray

UNRECOGNIZED = "(unrecognized)"


@dataclass(frozen=True)
class PredictedItem:
    box: Box
    score: float  # detector confidence, used to rank boxes for AP
    sku: str | None  # None: unrecognised (not on the receipt)


@dataclass(frozen=True)
class CheckoutMetrics:
    images: int
    cacc: float | None
    acd: float | None
    mccd: float | None
    mciou: float | None
    skus: int  # SKUs averaged over by mCCD / mCIoU
    extra_skus: int  # SKUs predicted but absent from the ground truth


@dataclass(frozen=True)
class DetectionMetrics:
    items: int
    predictions: int
    ap50: float | None
    recall50: float | None
    recognition_recall1: float | None  # on matched items
    # Among the boxes shown (the items billed or left unrecognised): share that match a true item, share that lie
    # inside one (part boxes) and share that hold several (group boxes); trayscan.boxes defines the two kinds.
    precision50: float | None = None
    part_boxes: float | None = None
    group_boxes: float | None = None


@dataclass(frozen=True)
class ItemOutcomes:
    items: int
    right: float | None
    sibling: float | None  # None: no families known, a wrong SKU counts as another product
    other_product: float | None
    unrecognised: float | None
    no_box: float | None


@dataclass(frozen=True)
class LevelReport:
    checkout: CheckoutMetrics
    detection: DetectionMetrics
    outcomes: ItemOutcomes | None = None


@dataclass
class EvalReport:
    overall: LevelReport
    levels: dict[str, LevelReport]
    confused: list[tuple[str, str, int]] = field(default_factory=list)  # (true SKU, predicted SKU, times)


# ---------------------------------------------------------------- checkout counts


def predicted_counts(items: Sequence[PredictedItem]) -> Counter[str]:
    return Counter(item.sku for item in items if item.sku is not None)


def checkout_metrics(truth: Sequence[Counter[str]], predicted: Sequence[Counter[str]]) -> CheckoutMetrics:
    if len(truth) != len(predicted):
        raise ValueError("one predicted count per true count")
    n = len(truth)
    true_skus = sorted({sku for counts in truth for sku in counts if counts[sku] > 0})
    extra = {sku for counts in predicted for sku in counts if counts[sku] > 0} - set(true_skus)
    if n == 0:
        return CheckoutMetrics(0, None, None, None, None, 0, len(extra))
    skus = true_skus + sorted(extra)
    column = {sku: k for k, sku in enumerate(skus)}
    gt = np.zeros((n, len(skus)), dtype=np.int64)
    pr = np.zeros((n, len(skus)), dtype=np.int64)
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        for sku, count in t.items():
            gt[i, column[sku]] = count
        for sku, count in p.items():
            pr[i, column[sku]] = count
    diff = np.abs(pr - gt)
    per_image = diff.sum(axis=1)
    k = len(true_skus)
    mccd: float | None = None
    mciou: float | None = None
    if k:
        gt_k, pr_k, diff_k = gt[:, :k], pr[:, :k], diff[:, :k]
        mccd = float(np.mean(diff_k.sum(axis=0) / gt_k.sum(axis=0)))
        mciou = float(np.mean(np.minimum(pr_k, gt_k).sum(axis=0) / np.maximum(pr_k, gt_k).sum(axis=0)))
    return CheckoutMetrics(
        images=n,
        cacc=float(np.mean(per_image == 0)),
        acd=float(np.mean(per_image)),
        mccd=mccd,
        mciou=mciou,
        skus=k,
        extra_skus=len(extra),
    )


# ---------------------------------------------------------------- boxes


def match_boxes(
    truth: Sequence[Box], predicted: Sequence[PredictedItem], threshold: float = MATCH_IOU
) -> list[int | None]:
    """For each prediction, the index of the true box it matches (or None). Best score first, one match each."""
    ious = iou_matrix([p.box for p in predicted], list(truth))
    matches: list[int | None] = [None] * len(predicted)
    taken: set[int] = set()
    for p in sorted(range(len(predicted)), key=lambda i: -predicted[i].score):
        best, best_iou = None, threshold
        for t in range(len(truth)):
            if t not in taken and ious[p, t] >= best_iou:
                best, best_iou = t, ious[p, t]
        if best is not None:
            taken.add(best)
            matches[p] = best
    return matches


def average_precision(scores: Sequence[float], hits: Sequence[bool], n_truth: int) -> float | None:
    """All-point interpolated AP of a ranked list of detections (hit = matched a true box)."""
    if n_truth == 0:
        return None
    if not scores:
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    tp = np.asarray(hits, dtype=np.float64)[order]
    tp_cum = np.cumsum(tp)
    recall = tp_cum / n_truth
    precision = tp_cum / np.arange(1, len(tp) + 1)
    # Precision envelope, then sum precision over each recall step.
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(recall_steps * envelope))


# ---------------------------------------------------------------- report


@dataclass
class _Accumulator:
    truth_counts: list[Counter[str]] = field(default_factory=list)
    pred_counts: list[Counter[str]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    items: int = 0
    matched: int = 0
    recognised: int = 0
    parts: int = 0
    groups: int = 0
    families: dict[str, str] = field(default_factory=dict)
    outcome: Counter[str] = field(default_factory=Counter)  # matched items by outcome

    def add(self, tray: Tray, predicted: Sequence[PredictedItem], matches: list[int | None]) -> None:
        self.truth_counts.append(tray.counts)
        self.pred_counts.append(predicted_counts(predicted))
        self.scores.extend(p.score for p in predicted)
        self.hits.extend(m is not None for m in matches)
        self.items += len(tray.items)
        part, group = part_and_group_boxes([p.box for p in predicted], [item.box for item in tray.items])
        self.parts += int(part.sum())
        self.groups += int(group.sum())
        for p, m in zip(predicted, matches, strict=True):
            if m is not None:
                self.matched += 1
                self.recognised += int(p.sku == tray.items[m].sku)
                self.outcome[self._outcome(tray.items[m].sku, p.sku)] += 1

    def _outcome(self, truth: str, predicted: str | None) -> str:
        if predicted is None:
            return "unrecognised"
        if predicted == truth:
            return "right"
        family = self.families.get(truth)
        return "sibling" if family is not None and family == self.families.get(predicted) else "other_product"

    def outcomes(self) -> ItemOutcomes:
        def share(n: int) -> float | None:
            return n / self.items if self.items else None

        return ItemOutcomes(
            items=self.items,
            right=share(self.outcome["right"]),
            sibling=share(self.outcome["sibling"]) if self.families else None,
            other_product=share(self.outcome["other_product"]),
            unrecognised=share(self.outcome["unrecognised"]),
            no_box=share(self.items - self.matched),
        )

    def report(self) -> LevelReport:
        return LevelReport(
            checkout=checkout_metrics(self.truth_counts, self.pred_counts),
            detection=DetectionMetrics(
                items=self.items,
                predictions=len(self.scores),
                ap50=average_precision(self.scores, self.hits, self.items),
                recall50=self.matched / self.items if self.items else None,
                recognition_recall1=self.recognised / self.matched if self.matched else None,
                precision50=self.matched / len(self.scores) if self.scores else None,
                part_boxes=self.parts / len(self.scores) if self.scores else None,
                group_boxes=self.groups / len(self.scores) if self.scores else None,
            ),
            outcomes=self.outcomes(),
        )


def evaluate(
    trays: Sequence[Tray],
    predictions: Sequence[Sequence[PredictedItem]],
    top_confused: int = 10,
    families: dict[str, str] | None = None,
) -> EvalReport:
    """Metrics over all trays and per RPC level; `predictions[i]` belongs to `trays[i]`; `families` (SKU -> family)
    tells sibling errors from the others."""
    if len(trays) != len(predictions):
        raise ValueError("one list of predictions per tray")
    families = families or {}
    overall = _Accumulator(families=families)
    by_level = {level: _Accumulator(families=families) for level in LEVELS}
    confused: Counter[tuple[str, str]] = Counter()
    for tray, predicted in zip(trays, predictions, strict=True):
        matches = match_boxes([item.box for item in tray.items], predicted)
        overall.add(tray, predicted, matches)
        by_level[tray.level].add(tray, predicted, matches)
        for p, m in zip(predicted, matches, strict=True):
            if m is not None and p.sku != tray.items[m].sku:
                confused[(tray.items[m].sku, p.sku or UNRECOGNIZED)] += 1
    pairs = sorted(confused.items(), key=lambda kv: (-kv[1], kv[0]))[:top_confused]
    return EvalReport(
        overall=overall.report(),
        levels={level: acc.report() for level, acc in by_level.items()},
        confused=[(truth, guess, n) for (truth, guess), n in pairs],
    )
