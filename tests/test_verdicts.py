"""The two-sided verdict (issue 24), on hand-worked cases: counts of correct answers, exact ties,
one seed, intervals that touch or straddle the bar. Every expected value is worked out here from
printed Student-t quantiles, not from the code under test."""

from fractions import Fraction

import pytest

from tracking.summary import correct_answers, judge, judge_accuracies

T_1DF = 12.706205  # t(0.975, 1), from a printed table
T_2DF = 4.302653  # t(0.975, 2)


def test_exact_ties_at_the_bar_are_above_whatever_the_float_rounding():
    # float32(0.9905) < 0.9905 and 0.995 has no exact binary form either: counts decide
    assert judge([9905, 9905, 9905], 10_000, 0.9905).word == "above"
    assert judge([9950, 9950, 9950], 10_000, 0.995).word == "above"
    assert judge_accuracies([0.9905] * 3, 10_000, 0.9905).word == "above"
    tie = judge([9905, 9905, 9905], 10_000, 0.9905)
    assert tie.gap_images == 0 and tie.gap_points == 0.0


def test_one_answer_below_with_no_spread_is_short():
    # every seed at 9,904: the interval is the single point 9,904, wholly below 9,905
    assert judge([9904, 9904, 9904], 10_000, 0.9905).word == "short"


def test_one_seed_is_undecided_above_or_below():
    assert judge([9990], 10_000, 0.9905).word == "undecided"
    assert judge([9000], 10_000, 0.9905).word == "undecided"
    assert judge([9990], 10_000, 0.9905).gap_images == 85


def test_no_target_is_no_bar():
    assert judge([9000, 9100], 10_000, None).word == "no bar"
    assert judge([9000, 9100], 10_000, None).text() == "no bar"


def test_two_seeds_worked_by_hand():
    # counts 9,900 and 9,910: mean 9,905, s = sqrt(50) = 7.0711, half-width = 12.706205 * 7.0711
    # / sqrt(2) = 63.53: the interval is 9,841.47 to 9,968.53 answers
    counts = [9900, 9910]
    assert judge(counts, 10_000, 0.99).word == "within noise"  # 9,900 inside
    assert judge(counts, 10_000, 0.98).word == "above"  # 9,800 below 9,841.47
    assert judge(counts, 10_000, 0.997).word == "short"  # 9,970 above 9,968.53
    assert judge(counts, 10_000, 0.9968).word == "within noise"  # 9,968 just inside
    low = 9905 - T_1DF * 50 ** 0.5 / 2 ** 0.5
    assert low == pytest.approx(9841.47, abs=0.01)


def test_conv7_bn_cosine_declared_seeds_worked_by_hand():
    # its seeds 1-3 (mnist_seeds.csv): 99.69%, 99.63%, 99.66% -> 9,969, 9,963, 9,966 answers;
    # mean 9,966, s = 3, half-width 4.302653 * 3 / sqrt(3) = 7.45: 9,958.55 to 9,973.45
    verdict = judge_accuracies([0.9969, 0.9963, 0.9966], 10_000, 0.9965)
    assert verdict.word == "within noise"
    assert verdict.gap_images == Fraction(1) and verdict.gap_points == pytest.approx(0.01)
    assert verdict.text() == "within noise (+0.01 points, +1.0 image)"
    assert 9966 - T_2DF * 3 / 3 ** 0.5 == pytest.approx(9958.55, abs=0.01)


def test_a_mean_above_the_bar_with_a_wide_interval_is_within_noise_not_above():
    # the old one-sided rule said "reached" for any mean at or above the bar
    verdict = judge([9946, 9955, 9951], 10_000, 0.995)  # conv3_bn_bf16's three seeds
    assert verdict.word == "within noise" and verdict.gap_images > 0


def test_a_target_that_is_not_a_whole_count_compares_exactly():
    # 0.99293 of 10,000 is 9,929.3 answers: 9,929 is below, 9,930 above
    assert judge([9929] * 3, 10_000, 0.99293).word == "short"
    assert judge([9930] * 3, 10_000, 0.99293).word == "above"


def test_accuracies_must_be_whole_counts_of_the_test_set():
    assert correct_answers(0.9905, 10_000) == 9905
    assert correct_answers(0.98, 300) == 294
    with pytest.raises(ValueError, match="whole number of answers"):
        correct_answers(0.99051, 10_000)


def test_the_text_gives_the_signed_distance_in_points_and_images():
    assert judge([9875, 9870, 9880], 10_000, 0.9928).text() == \
        "short (-0.53 points, -53.0 images)"


def test_against_the_sources_runs_is_welchs_interval_worked_by_hand():
    """Görner 3.1's six runs against three of ours: Welch's interval from its formula (variances
    apart, Welch-Satterthwaite degrees of freedom), the word two-sided."""
    from scipy.stats import t

    from tracking.summary import against_source_runs

    his = [0.9931, 0.9921, 0.9927, 0.9935, 0.9929, 0.9933]
    ours = [0.9920, 0.9924, 0.9915]
    m1, m2 = sum(ours) / 3, sum(his) / 6
    v1 = sum((x - m1) ** 2 for x in ours) / 2 / 3  # variance of each mean
    v2 = sum((x - m2) ** 2 for x in his) / 5 / 6
    df = (v1 + v2) ** 2 / (v1 ** 2 / 2 + v2 ** 2 / 5)
    half = t.ppf(0.975, df) * (v1 + v2) ** 0.5
    compared = against_source_runs(ours, his)
    assert compared.low == pytest.approx(m1 - m2 - half, abs=1e-12)
    assert compared.high == pytest.approx(m1 - m2 + half, abs=1e-12)
    assert compared.high < 0 and compared.word == "short"
    assert compared.text().startswith("short (-0.10 points, 95% Welch interval ")
    assert against_source_runs([0.9930, 0.9929], his).word == "within noise"
    assert against_source_runs([0.9931], his) is None  # one seed: no interval


def test_the_max_during_training_has_its_own_verdict_and_a_chosen_recipe_none():
    from tracking.summary import summarize_rows

    class Recipe:
        name, model, target_acc, target_source = "r", "m", 0.9928, "a source"
        seeds, published = (1, 2), True

        def hash(self):
            return "h"

    rows = [{"recipe": "r", "recipe_hash": "h", "seed": s, "run_id": str(s),
             "final_test_acc": final, "max_test_acc_during_training": peak, "wall_s": 1.0,
             "test_examples": 10_000} for s, final, peak in ((1, 0.9910, 0.9940),
                                                            (2, 0.9912, 0.9941))]
    summary = summarize_rows(Recipe(), rows)
    # finals 9,910 and 9,912 answers: 9,911 +- T_1DF * 1.414 / 1.414 = 9,898.3 to 9,923.7
    assert summary.verdict == "short"
    # maxima 9,940 and 9,941: 9,940.5 +- T_1DF * 0.707 / 1.414 = 9,934.1 to 9,946.9, all above
    assert summary.peak_judged.word == "above"
    assert summary.peak_judged.gap_images == Fraction(25, 2)
    Recipe.published = False
    chosen = summarize_rows(Recipe(), [r | {"max_test_acc_during_training": None} for r in rows])
    assert chosen.peak_judged is None
