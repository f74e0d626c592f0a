import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../lib/config/environments.js';
import { EnvironmentConfigError, loadEnvironmentConfig } from '../../lib/config/load-config.js';

const withDev = (patch: Record<string, unknown>) => ({
  ...ENVIRONMENTS,
  dev: { ...(ENVIRONMENTS.dev as Record<string, unknown>), ...patch },
});

describe('environment configuration', () => {
  it.each(['dev', 'staging', 'prod'])('loads %s', (env) => {
    const config = loadEnvironmentConfig(env);
    expect(config.name).toBe(env);
  });

  it('protects prod: termination protection on and stateful data retained', () => {
    const prod = loadEnvironmentConfig('prod');
    expect(prod.terminationProtection).toBe(true);
    expect(prod.removalPolicy).toBe('retain');
  });

  it('rejects an unknown environment and names the allowed ones', () => {
    expect(() => loadEnvironmentConfig('nope')).toThrow(EnvironmentConfigError);
    expect(() => loadEnvironmentConfig('nope')).toThrow(
      "Unknown environment 'nope': allowed environments are dev, staging, prod.",
    );
  });

  it('rejects a missing environment', () => {
    expect(() => loadEnvironmentConfig(undefined)).toThrow(/pass -c env=NAME where NAME is one of dev, staging, prod/);
  });

  it('names the field and the allowed values of an invalid enum', () => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev({ removalPolicy: 'keep' }))).toThrow(
      /dev\.removalPolicy: .*\(allowed: retain, destroy\)/,
    );
  });

  it('names a nested numeric field that is out of range', () => {
    const lake = { ...(ENVIRONMENTS.dev as { lake: Record<string, unknown> }).lake, athenaBytesScannedCutoff: 5 };
    expect(() => loadEnvironmentConfig('dev', {}, withDev({ lake }))).toThrow(/dev\.lake\.athenaBytesScannedCutoff/);
  });

  it('rejects a log retention CloudWatch does not accept', () => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev({ logRetentionDays: 10 }))).toThrow(
      /dev\.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30/,
    );
  });

  it('rejects unknown fields (typos) instead of ignoring them', () => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev({ terminationProtecton: true }))).toThrow(
      /terminationProtecton/,
    );
  });

  it('validates an account given on the command line', () => {
    expect(() => loadEnvironmentConfig('dev', { account: '12345' })).toThrow(
      /dev\.account: must be a 12-digit AWS account id/,
    );
    expect(loadEnvironmentConfig('dev', { account: '123456789012' }).account).toBe('123456789012');
  });

  it('rejects an entry whose name disagrees with its key', () => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev({ name: 'prod' }))).toThrow(/name is 'prod', expected 'dev'/);
  });
});
