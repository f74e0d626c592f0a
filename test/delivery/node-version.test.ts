import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { assertNodeVersion, MIN_NODE_VERSION } from '../../local/node-version.js';

describe('Node.js 22.11+', () => {
  it('refuses 22.10 and 21.x, accepts 22.11, later 22.x and 24', () => {
    expect(MIN_NODE_VERSION).toBe('22.11.0');
    expect(() => assertNodeVersion('22.10.0')).toThrow(/Node\.js 22\.11\.0 or newer is required, this is v22\.10\.0/);
    expect(() => assertNodeVersion('21.99.0')).toThrow(/npm run setup/);
    expect(() => assertNodeVersion('20.20.2')).toThrow(/\.tools\/node/);
    expect(() => assertNodeVersion('22.11.0')).not.toThrow();
    expect(() => assertNodeVersion('22.23.3')).not.toThrow();
    expect(() => assertNodeVersion('24.0.0')).not.toThrow();
  });

  it('is what this test runs on, with Promise.withResolvers built in (no polyfill)', () => {
    expect(() => assertNodeVersion(process.versions.node)).not.toThrow();
    expect(typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers).toBe('function');
  });

  it('is declared in package.json engines and pinned by the setup script', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.engines).toEqual({ node: `>=${MIN_NODE_VERSION.replace(/\.0$/, '')}` });
    const setup = fs.readFileSync(path.join(repoRoot, 'scripts', 'setup.sh'), 'utf8');
    const pinned = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)/m.exec(setup);
    expect(pinned, 'scripts/setup.sh pins NODE_VERSION').not.toBeNull();
    expect(() => assertNodeVersion(`${pinned?.[1]}.${pinned?.[2]}.${pinned?.[3]}`)).not.toThrow();
    expect(setup).toMatch(/^NODE_MIN_MAJOR=22$/m);
    expect(setup).toMatch(/^NODE_MIN_MINOR=11 /m);
  });
});
