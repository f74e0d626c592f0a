/**
 * The Powertools instances every Lambda shares. Service name, namespace and log level come from the environment
 * TeamFunction sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();

/**
 * The metrics' own diagnostics go through the structured logger. An invocation that adds no metric (most
 * validation and registry calls) is normal here, so Powertools' "No application metrics to publish" notice is
 * logged at debug level instead of a warning on every such call; every other notice stays a warning.
 */
const metricsLog = {
  debug: (message: string, ...rest: unknown[]) => logger.debug(message, ...(rest as [])),
  info: (message: string, ...rest: unknown[]) => logger.info(message, ...(rest as [])),
  error: (message: string, ...rest: unknown[]) => logger.error(message, ...(rest as [])),
  warn: (message: string, ...rest: unknown[]) =>
    message.startsWith('No application metrics to publish')
      ? logger.debug(message)
      : logger.warn(message, ...(rest as [])),
};

export const metrics = new Metrics({
  defaultDimensions: { environment: process.env.CLV_ENVIRONMENT ?? 'local' },
  logger: metricsLog,
});
export const tracer = new Tracer();
