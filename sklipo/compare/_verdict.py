"""The verdict of a comparison: the best model, by how much, and whether it is significant."""

# License: BSD 3 clause

import numpy as np

__all__ = ["SUMMARY_HEADERS", "safe_class_names", "verdict"]

#: The scores over all classes, with their display names.
SUMMARY_HEADERS = {"balanced_accuracy": "balanced accuracy", "f1_macro": "macro F1"}


def _p_text(test):
    return "p undefined" if np.isnan(test.p_value) else f"p = {test.p_value:.3f}"


def _significance(test, model, alpha):
    """Whether a paired test finds a difference at `alpha`, in words."""
    folds = f"{_p_text(test)}; {model} better on {test.wins} of {test.n_folds} folds"
    if np.isnan(test.p_value):
        return f"untestable ({folds})"
    return f"{'' if test.p_value < alpha else 'not '}significant ({folds})"


def verdict(result, *, alpha=0.05):
    """The verdict of a comparison, see :meth:`ComparisonResult.verdict`."""
    ran = [m for m in range(len(result.model_names)) if (result.status[m] == "ok").any()]
    data = {"alpha": alpha, "best": {}, "runner_up": None, "tests": {}, "ranking": []}
    if not ran:
        data["text"] = "No model ran on any fold: there is nothing to compare."
        return data
    means = {s: result.mean_scores(s) for s in SUMMARY_HEADERS}
    stds = {s: result.std_scores(s) for s in SUMMARY_HEADERS}
    names = result.model_names

    def best_of(summary, among):
        return max(among, key=lambda m: np.nan_to_num(means[summary][m], nan=-np.inf))

    ranked = sorted(ran, key=lambda m: -np.nan_to_num(means["balanced_accuracy"][m], nan=-np.inf))
    data["ranking"] = [names[m] for m in ranked]
    best = ranked[0]
    best_f1 = best_of("f1_macro", ran)
    data["best"] = {"balanced_accuracy": names[best], "f1_macro": names[best_f1]}

    def score(summary, m):
        return f"{means[summary][m]:.3f} ± {stds[summary][m]:.3f}"

    unreliable = [entry["class"] for entry in result.unreliable_classes()]
    caveat = (
        f"The numbers of {', '.join(unreliable)} rest on fewer than "
        f"{result.min_test_support} test samples per fold and are unreliable."
    )
    if len(ran) == 1:
        data["text"] = (
            f"Only {names[best]} ran: balanced accuracy {score('balanced_accuracy', best)}, "
            f"macro F1 {score('f1_macro', best)} over {result.n_folds} folds; there is no "
            "other model to compare it with." + (f" {caveat}" if unreliable else "")
        )
        return data
    runner = best_f1 if best_f1 != best else ranked[1]
    data["runner_up"] = names[runner]
    a, b = names[best], names[runner]
    tests = {s: result.paired_test(a, b, metric=s) for s in SUMMARY_HEADERS}
    class_metrics = {
        str(c): f"f1_{safe}"
        for c, safe in zip(result.class_names, safe_class_names(result.class_names))
    }
    per_class = {c: result.paired_test(a, b, metric=m) for c, m in class_metrics.items()}
    data["tests"] = {**tests, "f1_per_class": per_class}

    def versus(summary):
        return (
            f"{score(summary, best)} against {score(summary, runner)} for {b}, "
            f"{tests[summary].mean_difference:+.3f}"
        )

    if best == best_f1:
        sentences = [
            f"{a} is the best model on both balanced accuracy ({versus('balanced_accuracy')}) "
            f"and macro F1 ({versus('f1_macro')})."
        ]
    else:
        sentences = [
            f"{a} is the best model on balanced accuracy ({versus('balanced_accuracy')}), "
            f"but {b} is best on macro F1 ({score('f1_macro', runner)} against "
            f"{score('f1_macro', best)} for {a})."
        ]
    sentences.append(
        f"At the {alpha:g} level, the corrected resampled t-test over "
        f"{tests['balanced_accuracy'].n_folds} folds (Nadeau and Bengio) finds the "
        f"difference between {a} and {b} in balanced accuracy "
        f"{_significance(tests['balanced_accuracy'], a, alpha)}, and in macro F1 "
        f"{_significance(tests['f1_macro'], a, alpha)}."
    )
    differ = [c for c, t in per_class.items() if t.p_value < alpha]
    if differ:
        sentences.append(
            "Per class, their F1 differs significantly for "
            + ", ".join(
                f"{c} ({per_class[c].mean_difference:+.3f}, {_p_text(per_class[c])})"
                for c in differ
            )
            + "."
        )
    else:
        largest = max(per_class, key=lambda c: np.nan_to_num(abs(per_class[c].mean_difference)))
        sentences.append(
            f"No class's F1 differs significantly; the largest difference is for {largest} "
            f"({per_class[largest].mean_difference:+.3f}, {_p_text(per_class[largest])})."
        )
    if len(ran) > 2:
        sentences.append(
            "All models by balanced accuracy: "
            + ", ".join(f"{names[m]} {means['balanced_accuracy'][m]:.3f}" for m in ranked)
            + "."
        )
    if unreliable:
        sentences.append(caveat)
    data["text"] = " ".join(sentences)
    return data


def safe_class_names(class_names):
    """Class names as metric names use them: characters other than [A-Za-z0-9_] as "_"."""
    return ["".join(c if c.isalnum() or c == "_" else "_" for c in n) for n in class_names]
