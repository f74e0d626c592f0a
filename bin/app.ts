#!/usr/bin/env node
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeliveryConfigError, loadDeliveryConfig } from '../lib/config/delivery.js';
import { EnvironmentConfigError, loadEnvironmentConfig } from '../lib/config/load-config.js';
import { createPlatform } from '../lib/platform.js';
import { DeliveryStack } from '../lib/stacks/delivery-stack.js';

const app = new App();
try {
  const config = loadEnvironmentConfig(app.node.tryGetContext('env'), {
    account: app.node.tryGetContext('account'),
  });
  createPlatform(app, config);
  // The roles GitHub Actions assumes to deploy this environment (docs/delivery.md): deployed once by hand first.
  const deliveryName = `Clv-${config.name}-Delivery`;
  const delivery = new DeliveryStack(app, deliveryName, {
    stackName: deliveryName,
    env: { account: config.account, region: config.region },
    terminationProtection: config.terminationProtection,
    environmentName: config.name,
    delivery: loadDeliveryConfig({ github: app.node.tryGetContext('github') }),
  });
  for (const [key, value] of Object.entries(config.tags)) Tags.of(delivery).add(key, value);
  Tags.of(delivery).add('environment', config.name);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (err) {
  if (err instanceof EnvironmentConfigError || err instanceof DeliveryConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
