"""The learned reader's last step: its logit and the rules' cues, combined by a small
learned ranking (a conditional logit: softmax over a question's candidates), and the best
candidate's score turned into the probability that the question is answered at all
(a logistic calibration); both fit on held-back training weeks (training/reader.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.answer.candidates import Candidate

#: the columns of a feature row: the reader's logit first, then the rules' cues
FEATURES = ("reader", "rule", "overlap", "fit", "hit_rank")


def features(cand: Candidate, best_rule: float) -> list[float]:
    """The rules' cues of one candidate (every column but the reader's logit)."""
    return [cand.score / (best_rule or 1.0), cand.overlap, cand.fit, 1.0 / (1.0 + cand.rank)]


@dataclass(frozen=True)
class Calibration:
    """``sigmoid(slope * score + intercept)``: a best candidate's fused score as the
    probability that the question has an answer among the candidates."""

    slope: float = 1.0
    intercept: float = 0.0

    def probability(self, score: float) -> float:
        return float(1.0 / (1.0 + np.exp(-(self.slope * score + self.intercept))))

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray, l2: float = 1e-3) -> Calibration:
        if len(set(np.asarray(labels).tolist())) < 2:  # one kind of question only: no fit
            return cls()
        fusion = Fusion.fit(np.asarray(scores, dtype=np.float64)[:, None], labels, l2=l2)
        # back from the standardized column to the raw score
        slope = fusion.weights[0] / fusion.scale[0]
        return cls(float(slope), float(fusion.bias - slope * fusion.mean[0]))


@dataclass(frozen=True)
class Fusion:
    """``((x - mean) / scale) . weights + bias`` over :data:`FEATURES` rows: a score (its
    sigmoid a probability when fit pointwise)."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def score(self, rows: np.ndarray) -> np.ndarray:
        z = (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        return np.asarray(z @ np.asarray(self.weights) + self.bias)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.score(rows))))

    def as_dict(self) -> dict[str, list[float] | float]:
        return {
            "weights": list(self.weights),
            "bias": self.bias,
            "mean": list(self.mean),
            "scale": list(self.scale),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Fusion:
        weights = tuple(float(w) for w in data["weights"])
        mean = tuple(float(m) for m in data["mean"])
        scale = tuple(float(s) for s in data["scale"])
        if not (len(weights) == len(mean) == len(scale) == len(FEATURES)):
            raise ValueError(f"the fusion needs {len(FEATURES)} weights ({', '.join(FEATURES)})")
        return cls(weights, float(data["bias"]), mean, scale)

    @classmethod
    def fit_ranking(
        cls, groups: list[np.ndarray], labels: list[np.ndarray], l2: float = 1.0, steps: int = 500
    ) -> Fusion:
        """A conditional logit: per question, the softmax over its candidates' scores puts
        its mass on the ones that answer (questions without one are left out), with an L2
        penalty, by gradient descent on standardized rows; no bias (it cancels out)."""
        kept = [(g, y) for g, y in zip(groups, labels, strict=True) if y.any()]
        if not kept:  # nothing to learn from: the reader alone
            width = len(FEATURES)
            return cls((1.0,) + (0.0,) * (width - 1), 0.0, (0.0,) * width, (1.0,) * width)
        allrows = np.vstack([g for g, _ in kept])
        mean = allrows.mean(axis=0)
        scale = allrows.std(axis=0)
        scale[scale < 1e-9] = 1.0
        zs = [((g - mean) / scale, y.astype(bool)) for g, y in kept]
        w = np.zeros(allrows.shape[1])
        w[0] = 1.0  # start from the reader alone
        rate = 0.5
        for _ in range(steps):
            gradient = l2 * w / len(zs)
            for z, y in zs:
                s = z @ w
                p = np.exp(s - s.max())
                p /= p.sum()
                q = np.where(y, p, 0.0)
                q /= q.sum()
                gradient += (z.T @ (p - q)) / len(zs)
            w -= rate * gradient
        return cls(tuple(w.tolist()), 0.0, tuple(mean.tolist()), tuple(scale.tolist()))

    @classmethod
    def fit(
        cls,
        rows: np.ndarray,
        labels: np.ndarray,
        l2: float = 1.0,
        steps: int = 50,
        columns: int | None = None,
    ) -> Fusion:
        """Maximum likelihood with an L2 penalty (Newton's method) on standardized rows."""
        x = np.asarray(rows, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        w = np.zeros(z.shape[1])
        penalty = np.eye(z.shape[1]) * l2
        penalty[-1, -1] = 0.0
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(z @ w)))
            gradient = z.T @ (p - y) + penalty @ w
            hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(tuple(w[:-1].tolist()), float(w[-1]), tuple(mean.tolist()), tuple(scale.tolist()))
