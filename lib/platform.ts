import { type App, Tags } from 'aws-cdk-lib';
import type { EnvironmentConfig } from './config/environment-config.js';
import { FeaturesStack } from './stacks/features-stack.js';
import { IngestionStack } from './stacks/ingestion-stack.js';
import { LakeStack } from './stacks/lake-stack.js';
import { MlStack } from './stacks/ml-stack.js';
import { MonitoringStack } from './stacks/monitoring-stack.js';
import { ObservabilityStack } from './stacks/observability-stack.js';

/** The stacks of one environment (Observability last: it watches the others). */
export interface Platform {
  readonly lake: LakeStack;
  readonly ingestion: IngestionStack;
  readonly features: FeaturesStack;
  readonly ml: MlStack;
  readonly monitoring: MonitoringStack;
  readonly observability: ObservabilityStack;
}

/** Builds every stack of one environment into the app. Stack names carry the environment: `Clv-<env>-<Part>`. */
export function createPlatform(app: App, config: EnvironmentConfig): Platform {
  const base = {
    config,
    env: { account: config.account, region: config.region },
    terminationProtection: config.terminationProtection,
  };
  const name = (part: string) => `Clv-${config.name}-${part}`;
  const lake = new LakeStack(app, name('Lake'), { ...base, stackName: name('Lake') });
  const monitoring = new MonitoringStack(app, name('Monitoring'), {
    ...base,
    stackName: name('Monitoring'),
    key: lake.key,
  });
  const ingestion = new IngestionStack(app, name('Ingestion'), {
    ...base,
    stackName: name('Ingestion'),
    key: lake.key,
    lake,
  });
  const features = new FeaturesStack(app, name('Features'), { ...base, stackName: name('Features'), lake });
  const ml = new MlStack(app, name('Ml'), {
    ...base,
    stackName: name('Ml'),
    lake,
    dataPipeline: {
      alertsTopic: monitoring.alertsTopic,
      ingestTransactionsJobName: ingestion.ingestTransactionsJob.jobName,
      sessionizeClickstreamJobName: ingestion.sessionizeClickstreamJob.jobName,
      buildFeaturesJobName: features.buildFeaturesJob.jobName,
      featureGroupName: features.featureGroupName,
    },
    conditionTable: monitoring.conditionTable,
  });

  const watched = { lake, ingestion, features, ml, monitoring };
  // created last, from the stacks above: their state machines, functions and streams get alarms and charts
  const observability = new ObservabilityStack(app, name('Observability'), {
    ...base,
    stackName: name('Observability'),
    watched: Object.values(watched),
    alertsTopic: monitoring.alertsTopic,
    deadLetterQueues: [monitoring.alertRouting.subscriptionDlq, monitoring.alertRouting.functionDlq],
    extraAlarms: monitoring.alertRouting.dlqAlarms,
  });
  const platform = { ...watched, observability };
  for (const stack of Object.values(platform)) {
    for (const [key, value] of Object.entries(config.tags)) Tags.of(stack).add(key, value);
    Tags.of(stack).add('environment', config.name);
  }
  return platform;
}
