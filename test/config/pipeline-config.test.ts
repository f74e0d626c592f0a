import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../lib/config/environments.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';

type Raw = Record<string, Record<string, unknown>>;
const dev = ENVIRONMENTS.dev as Raw;
/** The environment table with one nested field of dev replaced. */
const withDev = (section: string, patch: Record<string, unknown>) => ({
  ...ENVIRONMENTS,
  dev: { ...dev, [section]: { ...dev[section], ...patch } },
});

describe('environment configuration: lake, clickstream, Glue and data pipeline', () => {
  it.each(['dev', 'staging', 'prod'])('%s sets every new field', (env) => {
    const c = loadEnvironmentConfig(env);
    expect(c.lake.quarantineExpirationDays).toBeGreaterThan(0);
    expect(c.clickstream.bufferSizeMiB).toBeGreaterThanOrEqual(64);
    expect(c.glue.numberOfWorkers).toBeGreaterThanOrEqual(2);
    expect(c.dataPipeline.scheduleCron).toMatch(/^cron\(/);
  });

  it('runs the schedule in staging and prod, not in dev', () => {
    expect(loadEnvironmentConfig('dev').dataPipeline.scheduleEnabled).toBe(false);
    expect(loadEnvironmentConfig('prod').dataPipeline.scheduleEnabled).toBe(true);
  });

  it.each([
    ['clickstream', { bufferSizeMiB: 32 }, /dev\.clickstream\.bufferSizeMiB/],
    ['clickstream', { bufferIntervalSeconds: 30 }, /dev\.clickstream\.bufferIntervalSeconds/],
    ['glue', { numberOfWorkers: 1 }, /dev\.glue\.numberOfWorkers/],
    ['glue', { workerType: 'Standard' }, /dev\.glue\.workerType: .*\(allowed: G\.1X, G\.2X, G\.4X\)/],
    ['dataPipeline', { scheduleCron: 'rate(1 day)' }, /dev\.dataPipeline\.scheduleCron: must be an EventBridge cron/],
    ['dataPipeline', { scheduleCron: 'cron(0 2 * * ?)' }, /dev\.dataPipeline\.scheduleCron/],
    ['dataPipeline', { timeoutMinutes: 5 }, /dev\.dataPipeline\.timeoutMinutes/],
    ['lake', { quarantineExpirationDays: 0 }, /dev\.lake\.quarantineExpirationDays/],
    ['dataPipeline', { schedule: 'daily' }, /schedule/],
  ] as const)('rejects %s %j naming the field', (section, patch, message) => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev(section, patch))).toThrow(message);
  });
});
