/**
 * Alert router Lambda, subscribed to the alerts topic (SNS → Lambda, async): routes each alert by severity
 * (./core.ts). Secrets come from Secrets Manager through Powertools Parameters (cached secretsCacheSeconds); the
 * de-duplication store is DynamoDB (the local store when CLV_LOCAL_ROOT is set). A failed delivery throws, so the
 * event ends in the function's on-failure DLQ after Lambda's async retries (docs/runbooks/alert-delivery.md).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { conditionStoreFor } from '../shared/condition-store.js';
import { withPowertools } from '../shared/middleware.js';
import { logger, metrics } from '../shared/powertools.js';
import { AlertRouter, parseRouterSettings, type RouteOutcome, type RouterSettings } from './core.js';
import type { FetchFn } from './http.js';
import { SnsDigestPublisher } from './sns-publisher.js';

async function secretText(name: string, maxAge: number, what: string): Promise<string> {
  const value = await getSecret(name, { maxAge });
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(
      `alert-router: secret ${name} (${what}) has no string value; put it (docs/runbooks/alert-delivery.md)`,
    );
  }
  return value.trim();
}

let router: { settings: RouterSettings; router: AlertRouter } | undefined;

function routerFor(env: NodeJS.ProcessEnv): AlertRouter {
  if (router) return router.router;
  const settings = parseRouterSettings(env);
  const fetchFn: FetchFn = (url, init) => fetch(url, init);
  const instance = new AlertRouter({
    settings,
    store: conditionStoreFor(settings.dedupTableName, env),
    fetch: fetchFn,
    secrets: {
      pagerDutyRoutingKey: () =>
        secretText(settings.pagerDutySecretName, settings.secretsCacheSeconds, 'PagerDuty routing key'),
      slackWebhookUrl: () => secretText(settings.slackSecretName, settings.secretsCacheSeconds, 'Slack webhook URL'),
    },
    digest: new SnsDigestPublisher(settings.digestTopicArn),
    log: {
      info: (message, details) => logger.info(message, { ...details }),
      warn: (message, details) => logger.warn(message, { ...details }),
      error: (message, details) => logger.error(message, { ...details }),
    },
    onRouted: (alert, outcome: RouteOutcome) => {
      const m = metrics.singleMetric();
      m.addDimension('severity', alert.severity);
      m.addMetric(outcome.deduplicated ? 'AlertsDeduplicated' : 'AlertsRouted', MetricUnit.Count, 1);
    },
  });
  router = { settings, router: instance };
  return instance;
}

export const handler = withPowertools(async (event: unknown): Promise<{ routed: RouteOutcome[] }> => {
  try {
    return { routed: await routerFor(process.env).routeEvent(event) };
  } catch (err) {
    metrics.addMetric('AlertDeliveryFailed', MetricUnit.Count, 1);
    logger.error('alert delivery failed; the event goes to the dead-letter queue', { error: (err as Error).message });
    throw err;
  }
});
