#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EnvironmentConfigError, loadEnvironmentConfig } from '../lib/config/load-config.js';
import { createPlatform } from '../lib/platform.js';

const app = new App();
try {
  const config = loadEnvironmentConfig(app.node.tryGetContext('env'), {
    account: app.node.tryGetContext('account'),
  });
  createPlatform(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (err) {
  if (err instanceof EnvironmentConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
