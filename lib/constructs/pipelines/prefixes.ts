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
/** Gold drift baselines table (lib/contracts/lake-tables.ts `drift_baselines`): <model_version>.csv per model. */
export const DRIFT_BASELINES_PREFIX = 'drift_baselines/';

/** Job-name prefixes the training pipeline uses (ASL: States.Format('clv-train-{}', ...) etc.). */
export const TRAINING_JOB_PREFIXES = { training: 'clv-train-', tuning: 'clv-hpo-', processing: 'clv-eval-' } as const;
/** Name prefixes the batch scoring pipeline uses: SageMaker models, transform jobs, publish processing jobs. */
export const SCORING_NAME_PREFIXES = {
  model: 'clv-model-',
  transform: 'clv-score-',
  processing: 'clv-publish-',
} as const;
/** Name prefix of the shadow pipeline's SageMaker models, transform jobs and processing jobs (clv-shadow-<role>-<execution>). */
export const SHADOW_NAME_PREFIXES = {
  model: 'clv-shadow-',
  transform: 'clv-shadow-',
  processing: 'clv-shadow-',
} as const;
/** Promotion audit records (s3://<gold>/audit/promotions/<execution name>.json). */
export const PROMOTION_AUDIT_PREFIX = 'audit/promotions/';

/** Campaign experiments, artifacts bucket: each campaign's task-token.json and audience-summary.json (campaigns/<id>/). */
export const CAMPAIGN_ARTIFACTS_PREFIX = 'campaigns/';
/** Gold campaign_audiences table (lib/contracts/lake-tables.ts), written by the audience export. */
export const CAMPAIGN_AUDIENCES_PREFIX = 'campaigns/audiences/';
/** Gold: the marketing tool's audience CSV (campaigns/exports/campaign_id=<id>/audience.csv). */
export const CAMPAIGN_EXPORTS_PREFIX = 'campaigns/exports/';
/** Gold campaign_outcomes table (lib/contracts/lake-tables.ts), written by the marketing side (or the generator). */
export const CAMPAIGN_OUTCOMES_PREFIX = 'campaigns/outcomes/';
/** Gold: the experiment analysis' analysis.json and report.html (campaigns/reports/campaign_id=<id>/). */
export const CAMPAIGN_REPORTS_PREFIX = 'campaigns/reports/';
/** Name prefixes the campaign experiment uses: the audience export processing jobs. */
export const CAMPAIGN_NAME_PREFIXES = { processing: 'clv-audience-' } as const;
