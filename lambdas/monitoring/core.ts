/**
 * The monitoring pipeline's judgements (pure): proxy performance window over window, the matured-cohort
 * evaluation, what to notify and whether to retrain. The numbers come from Athena (sql/monitoring/*.sql): only
 * aggregates reach this code, whatever the size of the data. docs/runbooks/proxy-drop.md, drift-alert.md.
 */
import { DRIFT_PREDICTION_FEATURE } from '../../lib/contracts/drift-features.js';
import { type ResultRecord, resultNumber } from '../shared/athena-results.js';
import type { MonitoringMetricRow } from '../shared/monitoring-metrics.js';

export type Severity = 'none' | 'low' | 'medium';

// ------------------------------------------------------------------------------------------------- proxy

export const PROXY_COLUMNS = ['run_window', 'scoring_date', 'model_version', 'metric', 'segment', 'value'] as const;
export type ProxyRecord = ResultRecord<(typeof PROXY_COLUMNS)[number]>;

const OVERALL_METRICS = [
  'customers',
  'pearson',
  'spearman',
  'top_decile_spend',
  'bottom_half_spend',
  'total_spend',
] as const;
const TIER_METRICS = ['customers', 'aov', 'churn_rate'] as const;

export interface TierProxy {
  customers: number | null;
  aov: number | null;
  churn_rate: number | null;
}

/** The proxy metrics of one judged scoring run (a window of actual spend after it). */
export interface ProxyWindow {
  scoring_date: string;
  model_version: string;
  customers: number;
  pearson: number | null;
  spearman: number | null;
  top_decile_spend: number | null;
  bottom_half_spend: number | null;
  /** top_decile_spend / bottom_half_spend (null when the bottom half spent nothing). */
  top_decile_to_bottom_half: number | null;
  total_spend: number | null;
  tiers: Record<string, TierProxy>;
}

export type ProxyStatus =
  /** No production run is old enough for its window to have closed. */
  | 'no_run'
  /** Fewer customers than proxy.min_customers: reported, not judged. */
  | 'insufficient'
  /** No earlier window (or the same run judged twice): reported, nothing to compare with. */
  | 'no_previous'
  /** A correlation is undefined (constant predictions or spend) or the previous one is not positive. */
  | 'undefined'
  | 'judged';

export interface ProxySettings {
  window_days: number;
  max_correlation_drop: number;
  min_customers: number;
}

export interface ProxyJudgement {
  status: ProxyStatus;
  severity: Severity;
  /** (previous − current) / previous Spearman correlation; null unless judged. */
  correlation_drop: number | null;
  threshold: number;
  current: ProxyWindow | null;
  previous: ProxyWindow | null;
  reason: string;
}

/** A result set that does not hold what proxy_performance.sql returns. */
export class InvalidProxyResultError extends Error {
  override readonly name = 'InvalidProxyResult';
}

function windowOf(records: ProxyRecord[], which: 'current' | 'previous'): ProxyWindow | null {
  const rows = records.filter((r) => r.run_window === which);
  if (rows.length === 0) return null;
  const first = rows[0] as ProxyRecord;
  const scoringDate = first.scoring_date;
  const modelVersion = first.model_version;
  if (!scoringDate || !modelVersion) {
    throw new InvalidProxyResultError(`proxy ${which} window: scoring_date and model_version are required`);
  }
  for (const r of rows) {
    if (r.scoring_date !== scoringDate || r.model_version !== modelVersion) {
      throw new InvalidProxyResultError(
        `proxy ${which} window: rows of two runs (${scoringDate}/${modelVersion} and ${r.scoring_date}/${r.model_version})`,
      );
    }
  }
  const value = (metric: string, segment: string): number | null => {
    const matches = rows.filter((r) => r.metric === metric && r.segment === segment);
    if (matches.length > 1) throw new InvalidProxyResultError(`proxy ${which}: ${metric}/${segment} appears twice`);
    const m = matches[0];
    return m ? resultNumber(m.value, `proxy ${which} ${metric}/${segment}`) : null;
  };
  for (const metric of OVERALL_METRICS) {
    if (!rows.some((r) => r.metric === metric && r.segment === 'all')) {
      throw new InvalidProxyResultError(`proxy ${which} window: metric ${metric} (segment all) is missing`);
    }
  }
  const customers = value('customers', 'all') ?? 0;
  const top = value('top_decile_spend', 'all');
  const bottom = value('bottom_half_spend', 'all');
  const tiers: Record<string, TierProxy> = {};
  for (const segment of new Set(rows.map((r) => r.segment).filter((s): s is string => !!s && s !== 'all'))) {
    tiers[segment] = Object.fromEntries(TIER_METRICS.map((m) => [m, value(m, segment)])) as unknown as TierProxy;
  }
  return {
    scoring_date: scoringDate,
    model_version: modelVersion,
    customers,
    pearson: value('pearson', 'all'),
    spearman: value('spearman', 'all'),
    top_decile_spend: top,
    bottom_half_spend: bottom,
    top_decile_to_bottom_half: top !== null && bottom !== null && bottom > 0 ? top / bottom : null,
    total_spend: value('total_spend', 'all'),
    tiers,
  };
}

/**
 * Judges the proxy correlation window over window: Medium when the Spearman correlation of the current window
 * fell by more than `max_correlation_drop` (relative) from the previous one. Spearman, not Pearson, is judged:
 * CLV and spend are heavy-tailed, and a few large customers move Pearson without the ranking changing; both are
 * reported.
 */
export function judgeProxy(records: ProxyRecord[], settings: ProxySettings): ProxyJudgement {
  const current = windowOf(records, 'current');
  const previous = windowOf(records, 'previous');
  const threshold = settings.max_correlation_drop;
  const base = { threshold, current, previous, correlation_drop: null, severity: 'none' as Severity };
  if (current === null) {
    return {
      ...base,
      status: 'no_run',
      reason: `no production scoring run is ${settings.window_days} days old yet`,
    };
  }
  if (current.customers < settings.min_customers) {
    return {
      ...base,
      status: 'insufficient',
      reason: `${current.customers} customers in the window, fewer than ${settings.min_customers}: reported, not judged`,
    };
  }
  if (previous === null || previous.scoring_date === current.scoring_date) {
    return { ...base, status: 'no_previous', reason: 'no earlier window to compare with' };
  }
  if (previous.customers < settings.min_customers) {
    return {
      ...base,
      status: 'insufficient',
      reason: `the previous window has ${previous.customers} customers, fewer than ${settings.min_customers}`,
    };
  }
  if (current.spearman === null || previous.spearman === null || previous.spearman <= 0) {
    return {
      ...base,
      status: 'undefined',
      reason: `the Spearman correlation is undefined or not positive (current ${current.spearman}, previous ${previous.spearman})`,
    };
  }
  const drop = (previous.spearman - current.spearman) / previous.spearman;
  const severity: Severity = drop > threshold ? 'medium' : 'none';
  return {
    ...base,
    status: 'judged',
    severity,
    correlation_drop: drop,
    reason:
      severity === 'medium'
        ? `the proxy Spearman correlation fell by ${(drop * 100).toFixed(1)}% (${previous.spearman.toFixed(3)} → ${current.spearman.toFixed(3)}), more than ${(threshold * 100).toFixed(0)}%`
        : `the proxy Spearman correlation moved ${(-drop * 100).toFixed(1)}% (${previous.spearman.toFixed(3)} → ${current.spearman.toFixed(3)})`,
  };
}

// ------------------------------------------------------------------------------------------------- matured

export const MATURED_COLUMNS = [
  'scoring_date',
  'model_version',
  'customers',
  'rmse',
  'mae',
  'mean_predicted',
  'mean_actual',
  'gini_normalized',
] as const;
export type MaturedRecord = ResultRecord<(typeof MATURED_COLUMNS)[number]>;

export interface MaturedEvaluation {
  status: 'no_run' | 'evaluated';
  scoring_date: string | null;
  model_version: string | null;
  customers: number | null;
  rmse: number | null;
  mae: number | null;
  mean_predicted: number | null;
  mean_actual: number | null;
  gini_normalized: number | null;
}

/** The matured cohort's figures (matured_cohort.sql returns at most one row). */
export function maturedEvaluation(records: MaturedRecord[]): MaturedEvaluation {
  if (records.length > 1) throw new InvalidProxyResultError(`matured cohort: ${records.length} rows, expected one`);
  const r = records[0];
  if (r === undefined) {
    return {
      status: 'no_run',
      scoring_date: null,
      model_version: null,
      customers: null,
      rmse: null,
      mae: null,
      mean_predicted: null,
      mean_actual: null,
      gini_normalized: null,
    };
  }
  const n = (c: (typeof MATURED_COLUMNS)[number]) => resultNumber(r[c], `matured cohort ${c}`);
  if (!r.scoring_date || !r.model_version) {
    throw new InvalidProxyResultError('matured cohort: scoring_date and model_version are required');
  }
  return {
    status: 'evaluated',
    scoring_date: r.scoring_date,
    model_version: r.model_version,
    customers: n('customers'),
    rmse: n('rmse'),
    mae: n('mae'),
    mean_predicted: n('mean_predicted'),
    mean_actual: n('mean_actual'),
    gini_normalized: n('gini_normalized'),
  };
}

// ------------------------------------------------------------------------------------------------- rows

export interface RunContext {
  run_id: string;
  /** The monitoring run's date (the scoring date it looks at): the run_date partition. */
  run_date: string;
  created_at: string;
}

const row = (
  ctx: RunContext,
  modelVersion: string,
  metric: string,
  feature: string | null,
  value: number,
  details: Record<string, unknown>,
): MonitoringMetricRow => ({
  run_id: ctx.run_id,
  pipeline: 'monitoring',
  model_version: modelVersion,
  metric,
  feature,
  value,
  details: JSON.stringify(details),
  created_at: ctx.created_at,
  run_date: ctx.run_date,
});

/** monitoring_metrics rows of the proxy judgement: the current window's figures and the judged drop. */
export function proxyRows(j: ProxyJudgement, settings: ProxySettings, ctx: RunContext): MonitoringMetricRow[] {
  const w = j.current;
  if (w === null) return [];
  const details = {
    judged_scoring_date: w.scoring_date,
    window_days: settings.window_days,
    status: j.status,
    severity: j.severity,
  };
  const out: MonitoringMetricRow[] = [];
  const add = (metric: string, feature: string | null, value: number | null) => {
    if (value !== null) out.push(row(ctx, w.model_version, metric, feature, value, details));
  };
  add('proxy_customers', null, w.customers);
  add('proxy_pearson', null, w.pearson);
  add('proxy_spearman', null, w.spearman);
  add('proxy_top_decile_spend', null, w.top_decile_spend);
  add('proxy_bottom_half_spend', null, w.bottom_half_spend);
  add('proxy_top_decile_to_bottom_half', null, w.top_decile_to_bottom_half);
  add('proxy_total_spend', null, w.total_spend);
  for (const [tier, t] of Object.entries(w.tiers)) {
    add('proxy_customers', `tier=${tier}`, t.customers);
    add('proxy_aov', `tier=${tier}`, t.aov);
    add('proxy_churn_rate', `tier=${tier}`, t.churn_rate);
  }
  if (j.correlation_drop !== null) {
    out.push(
      row(ctx, w.model_version, 'proxy_spearman_drop', null, j.correlation_drop, {
        ...details,
        threshold: j.threshold,
        previous_scoring_date: j.previous?.scoring_date,
        previous_spearman: j.previous?.spearman,
      }),
    );
  }
  return out;
}

/** monitoring_metrics rows of the matured cohort, beside what the model promised on its test set (when known). */
export function maturedRows(
  m: MaturedEvaluation,
  promised: { rmse?: number; gini?: number } | undefined,
  ctx: RunContext,
): MonitoringMetricRow[] {
  if (m.status !== 'evaluated' || m.model_version === null) return [];
  const details = { matured_scoring_date: m.scoring_date, customers: m.customers, promised: promised ?? null };
  const out: MonitoringMetricRow[] = [];
  for (const [metric, value] of [
    ['matured_rmse', m.rmse],
    ['matured_mae', m.mae],
    ['matured_gini_normalized', m.gini_normalized],
    ['matured_mean_predicted', m.mean_predicted],
    ['matured_mean_actual', m.mean_actual],
  ] as const) {
    if (value !== null) out.push(row(ctx, m.model_version, metric, null, value, details));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------- decide

/** A feature's drift as the drift Lambda returns it (the fields read here). */
export interface FeatureDriftLike {
  psi: number;
  severity: Severity;
}

export interface DriftLike {
  features: Record<string, FeatureDriftLike>;
  prediction_psi: number;
}

export interface RetrainingSettings {
  enabled: boolean;
  prediction_psi: number;
  /** A Medium drift of a monitored input feature (not the prediction) also asks for a retraining run. */
  on_input_drift: boolean;
  cooldown_hours: number;
}

/** One message to the alerts topic (lib/contracts/alerts.ts shape). */
export interface Notification {
  event: 'drift' | 'proxy_drop';
  severity: 'low' | 'medium';
  status: 'firing' | 'resolved';
  pipeline: 'monitoring';
  metric: string;
  feature: string | null;
  value: number | null;
  threshold: number;
  summary: string;
}

export interface Decision {
  notifications: Notification[];
  /** Whether prediction drift or a proxy drop asks for a retraining run (the cool-down is checked after). */
  retrain: boolean;
  retrain_reason: string;
}

/**
 * What to notify and whether to retrain. Every drifted feature (Low or Medium) fires at its severity; every other
 * feature sends `resolved`, so the alert router clears a condition that no longer holds (it ignores a resolve for a
 * condition it never saw). The proxy fires Medium on a drop and resolves when judged without one. Retraining is
 * asked for when prediction PSI exceeds retraining.prediction_psi, the proxy dropped, or (on_input_drift) a
 * monitored input feature drifts at Medium, if enabled.
 */
export function decide(
  drift: DriftLike,
  proxy: Pick<ProxyJudgement, 'status' | 'severity' | 'correlation_drop' | 'threshold' | 'reason'>,
  thresholds: { psi_low: number; psi_medium: number },
  retraining: RetrainingSettings,
): Decision {
  const notifications: Notification[] = [];
  for (const [feature, d] of Object.entries(drift.features).sort(([a], [b]) => a.localeCompare(b))) {
    const firing = d.severity !== 'none';
    const severity = d.severity === 'medium' ? 'medium' : 'low';
    const threshold = d.severity === 'medium' ? thresholds.psi_medium : thresholds.psi_low;
    notifications.push({
      event: 'drift',
      severity,
      status: firing ? 'firing' : 'resolved',
      pipeline: 'monitoring',
      metric: 'psi',
      feature,
      value: d.psi,
      threshold,
      summary: firing
        ? `${d.severity === 'medium' ? 'Medium' : 'Low'} drift of ${feature}: PSI ${d.psi.toFixed(3)} (threshold ${threshold})`
        : `${feature} no longer drifts: PSI ${d.psi.toFixed(3)} (below ${thresholds.psi_low})`,
    });
  }
  if (proxy.status === 'judged') {
    notifications.push({
      event: 'proxy_drop',
      severity: 'medium',
      status: proxy.severity === 'medium' ? 'firing' : 'resolved',
      pipeline: 'monitoring',
      metric: 'proxy_spearman_drop',
      feature: null,
      value: proxy.correlation_drop,
      threshold: proxy.threshold,
      summary: proxy.reason,
    });
  }
  const reasons: string[] = [];
  if (drift.prediction_psi > retraining.prediction_psi) {
    reasons.push(
      `prediction PSI ${drift.prediction_psi.toFixed(3)} above ${retraining.prediction_psi} (predicted_revenue_12m drift)`,
    );
  }
  if (proxy.status === 'judged' && proxy.severity === 'medium') reasons.push(proxy.reason);
  if (retraining.on_input_drift) {
    const medium = Object.entries(drift.features)
      .filter(([feature, d]) => feature !== DRIFT_PREDICTION_FEATURE && d.severity === 'medium')
      .map(([feature, d]) => `${feature} ${d.psi.toFixed(3)}`)
      .sort();
    if (medium.length > 0) {
      reasons.push(`Medium input drift (PSI above ${thresholds.psi_medium}): ${medium.join(', ')}`);
    }
  }
  const retrain = retraining.enabled && reasons.length > 0;
  return {
    notifications,
    retrain,
    retrain_reason:
      reasons.length === 0
        ? 'no prediction drift, no proxy drop and no Medium input drift'
        : retraining.enabled
          ? reasons.join('; ')
          : `retraining disabled by config (would retrain: ${reasons.join('; ')})`,
  };
}

// ------------------------------------------------------------------------------------------------- retraining

/** The cool-down key: one retraining trigger per environment per cool-down. */
export const RETRAINING_KEY = 'monitoring#retraining-trigger';

export interface CooldownStore {
  acquire(key: string, ttlSeconds: number, attributes?: Record<string, string>, now?: Date): Promise<boolean>;
  get(
    key: string,
    now?: Date,
  ): Promise<{ key: string; expiresAt: number; attributes: Record<string, string> } | undefined>;
  release(key: string): Promise<void>;
}

export interface RetrainingSlot {
  acquired: boolean;
  /** ISO-8601 end of the cool-down now in force (this trigger's or the earlier one's). */
  cooldown_until: string;
  /** The monitoring execution that holds the cool-down. */
  held_by: string;
  reason: string;
}

/** Takes the retraining cool-down for this execution, or reports who holds it. */
export async function acquireRetraining(
  store: CooldownStore,
  o: { execution: string; reason: string; cooldown_hours: number; now?: Date },
): Promise<RetrainingSlot> {
  const now = o.now ?? new Date();
  const ttl = o.cooldown_hours * 3600;
  const acquired = await store.acquire(RETRAINING_KEY, ttl, { execution: o.execution, reason: o.reason }, now);
  if (acquired) {
    return {
      acquired,
      cooldown_until: new Date(now.getTime() + ttl * 1000).toISOString(),
      held_by: o.execution,
      reason: o.reason,
    };
  }
  const holder = await store.get(RETRAINING_KEY, now);
  return {
    acquired: false,
    cooldown_until: holder ? new Date(holder.expiresAt * 1000).toISOString() : now.toISOString(),
    held_by: holder?.attributes.execution ?? 'unknown',
    reason: o.reason,
  };
}

/** monitoring_metrics row recording a retraining decision: triggered (1, with the training execution) or not (0). */
export function retrainingRow(
  o: {
    triggered: boolean;
    model_version: string;
    reason: string;
    training_execution?: string;
    cooldown_until: string;
    held_by: string;
  },
  ctx: RunContext,
): MonitoringMetricRow {
  return row(ctx, o.model_version, 'retraining_triggered', null, o.triggered ? 1 : 0, {
    reason: o.reason,
    training_execution: o.training_execution ?? null,
    cooldown_until: o.cooldown_until,
    cooldown_held_by: o.held_by,
    skipped_because: o.triggered ? null : 'cool-down',
  });
}
