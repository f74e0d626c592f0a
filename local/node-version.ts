/**
 * The project runs on Node.js 22.11 or newer (package.json engines): aws-local-stepfunctions uses
 * Promise.withResolvers, which Node.js 22 has, so nothing is polyfilled any more. Imported first by the `clv` CLI and
 * the test setup, this stops an older Node.js with one line that says how to fix it, instead of a failure deep inside
 * an execution. The npm scripts run on the project's Node.js (scripts/setup.sh installs it into .tools/node).
 */

/** The oldest Node.js the project runs on (the first Node.js 22 LTS release). */
export const MIN_NODE_VERSION = '22.11.0';

/** Throws when `version` (process.versions.node) is older than MIN_NODE_VERSION, saying how to fix it. */
export function assertNodeVersion(version: string): void {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor = 0, minMinor = 0] = MIN_NODE_VERSION.split('.').map(Number);
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return;
  throw new Error(
    `Node.js ${MIN_NODE_VERSION} or newer is required, this is v${version}: run it through the npm scripts ` +
      "(npm run clv -- ..., npm test), which install Node.js 22 into .tools/node when needed, or run 'npm run setup' " +
      'and put .tools/node/bin first on PATH.',
  );
}

assertNodeVersion(process.versions.node);
