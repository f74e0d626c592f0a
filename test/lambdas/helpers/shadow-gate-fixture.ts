/** Shadow-gate fixtures shared by the gate's tests: prediction statistics and a champion/challenger comparison. */
import type { Comparison, PredictionStats } from '../../../lambdas/shadow-gate/core.js';

/** Sound statistics of 100 predictions, with the fields given replaced. */
export const predictionStats = (over: Partial<PredictionStats> = {}): PredictionStats => ({
  n: 100,
  mean: 100,
  std: 30,
  min: 1,
  max: 400,
  n_nan: 0,
  n_negative: 0,
  n_zero: 0,
  n_distinct: 100,
  ...over,
});

/** A comparison of two sound prediction sets (rank correlation 0.93, top-decile overlap 0.8). */
export const shadowComparison = (
  challenger: Partial<PredictionStats> = {},
  champion: Partial<PredictionStats> = {},
): Comparison => ({
  column: 'predicted_revenue_12m',
  rows_joined: 100,
  champion: predictionStats(champion),
  challenger: predictionStats(challenger),
  rank_correlation: 0.93,
  top_decile_overlap: 0.8,
});
