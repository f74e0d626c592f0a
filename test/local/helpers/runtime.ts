/** The RuntimeServices a stand-in test calls an integration with: a local root and nothing else running. */
import { FaultInjector } from '../../../local/faults.js';
import type { RuntimeServices } from '../../../local/integrations/types.js';

/**
 * Runtime services over `root`: the environment with CLV_LOCAL_ROOT set, no injected faults, no extra lake tables,
 * a silent log and no child executions (starting one fails). `overrides` replace any of these.
 */
export function stubRuntime(root: string, overrides: Partial<RuntimeServices> = {}): RuntimeServices {
  return {
    root,
    env: { ...process.env, CLV_LOCAL_ROOT: root },
    execution: {
      name: 'e',
      arn: 'arn:aws:states:eu-west-1:000000000000:execution:clv-local-x:e',
      stateMachineName: 'x',
      startTime: '',
    },
    faults: new FaultInjector({}),
    extraTables: [],
    log: () => undefined,
    startExecution: () => Promise.reject(new Error('this test starts no child execution')),
    ...overrides,
  };
}
