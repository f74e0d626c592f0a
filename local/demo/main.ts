/**
 * Entry of `npm run demo -- [options]` (scripts/demo.sh runs it after the setup): parses the options, runs the demo
 * (local/demo/demo.ts), prints the summary. Exit 0 when every stage succeeded, 1 when one failed (the summary, and
 * the report as far as it goes, are written either way), 2 for a bad option.
 */
import '../node-version.js';
import { Demo } from './demo.js';
import { DemoUsageError, parseDemoArgs } from './options.js';
import { formatSummary } from './summary.js';

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseDemoArgs>;
  try {
    options = parseDemoArgs(argv);
  } catch (err) {
    if (err instanceof DemoUsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // In-process Lambda handlers log JSON to stdout: keep the demo's output to its progress lines and warnings.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.CLV_LOCAL_ROOT = options.root;
  const demo = new Demo(options);
  console.log(
    `CLV platform demo: ${options.customers} customers, seed ${options.seed}${options.skipDrift ? ', without the drift period' : ''}; output ${options.out}`,
  );
  const summary = await demo.run();
  console.log(formatSummary(summary));
  return summary.status === 'succeeded' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
