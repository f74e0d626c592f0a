/** Key prefixes and name prefixes the pipelines and their ASL files agree on (each ends in "/" or "-"). */

/** Where the quality gate writes result.json and report.html (dt=<date>/ below), artifacts bucket. */
export const QUALITY_REPORTS_PREFIX = 'quality/silver_transactions/';
/** Where the Athena workgroup writes query results, Athena results bucket. */
export const ATHENA_RESULTS_PREFIX = 'results/';
/** Training job output (the ASL's OutputDataConfig.S3OutputPath, s3://<artifacts>/models/training). */
export const MODEL_ARTIFACTS_PREFIX = 'models/training/';
/** Evaluation reports (s3://<artifacts>/evaluations/<execution name>/evaluation.json, model_card.md). */
export const EVALUATIONS_PREFIX = 'evaluations/';
/** Batch scoring working files: transform output, publish report and summary.json (s3://<artifacts>/scoring/<execution name>/). */
export const SCORING_PREFIX = 'scoring/';
/** Gold predictions table (lib/contracts/lake-tables.ts `predictions`). */
export const PREDICTIONS_PREFIX = 'predictions/';
/** Gold monitoring metrics table (lib/contracts/lake-tables.ts `monitoring_metrics`). */
export const MONITORING_METRICS_PREFIX = 'monitoring_metrics/';

/** Job-name prefixes the training pipeline uses (ASL: States.Format('clv-train-{}', ...) etc.). */
export const TRAINING_JOB_PREFIXES = { training: 'clv-train-', tuning: 'clv-hpo-', processing: 'clv-eval-' } as const;
/** Name prefixes the batch scoring pipeline uses: SageMaker models, transform jobs, publish processing jobs. */
export const SCORING_NAME_PREFIXES = {
  model: 'clv-model-',
  transform: 'clv-score-',
  processing: 'clv-publish-',
} as const;
