import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENVIRONMENT_NAMES } from '../../lib/config/environment-config.js';
import { repoRoot } from '../../lib/paths.js';

/**
 * The workflows' structure, read with the `yaml` package (actionlint, run by scripts/test.sh, checks their syntax,
 * expressions and shell): which jobs exist, in which GitHub environment, who may request an OIDC token, and that
 * every action is pinned by commit.
 */

type Doc = Record<string, unknown>;
/** A GitHub expression as written in a workflow: gh('x') is the text \u0024{{ x }}. */
const gh = (expression: string) => `$${'{{'} ${expression} }}`;
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: string };
type Job = {
  uses?: string;
  needs?: string | string[];
  with?: Record<string, unknown>;
  permissions?: Record<string, string>;
  environment?: { name: string } | string;
  strategy?: { matrix: Record<string, unknown> };
  steps?: Step[];
  if?: string;
  env?: Record<string, string>;
};
type Workflow = { on: Doc; permissions: Record<string, string>; jobs: Record<string, Job> };

const githubDir = path.join(repoRoot, '.github');
const workflowDir = path.join(githubDir, 'workflows');
const actionsDir = path.join(githubDir, 'actions');

const workflowFiles = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
const actionFiles = fs.existsSync(actionsDir)
  ? fs.readdirSync(actionsDir).map((dir) => path.join('..', 'actions', dir, 'action.yml'))
  : [];
const read = (file: string) => fs.readFileSync(path.resolve(workflowDir, file), 'utf8');
const workflow = (file: string) => parse(read(file)) as Workflow;

/** Every `uses:` value in a workflow or composite action, wherever it is (job or step). */
function usesOf(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(usesOf);
  if (doc && typeof doc === 'object') {
    return Object.entries(doc).flatMap(([key, value]) =>
      key === 'uses' && typeof value === 'string' ? [value] : usesOf(value),
    );
  }
  return [];
}

/** A reference is acceptable when it is local (`./...`) or names a full 40-hex commit. */
function pinProblem(ref: string): string | undefined {
  if (ref.startsWith('./')) return undefined;
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/.test(ref)) {
    return `${ref}: not pinned to a full commit SHA (owner/repo@<40 hex>)`;
  }
  return undefined;
}

/** `<file>:<job>` for every job that may request a GitHub OIDC token, and every other write permission found. */
function writePermissions(): { idToken: string[]; otherWrites: string[] } {
  const idToken: string[] = [];
  const otherWrites: string[] = [];
  for (const file of workflowFiles) {
    const wf = workflow(file);
    const scopes: [string, Record<string, string> | undefined][] = [
      [`${file}:(top)`, wf.permissions],
      ...Object.entries(wf.jobs).map(([id, job]): [string, Record<string, string> | undefined] => [
        `${file}:${id}`,
        job.permissions,
      ]),
    ];
    for (const [where, perms] of scopes) {
      if (perms === undefined) continue;
      if (typeof perms === 'string') otherWrites.push(`${where}: ${perms}`);
      for (const [scope, level] of Object.entries(perms)) {
        if (level !== 'write') continue;
        if (scope === 'id-token') idToken.push(where);
        else otherWrites.push(`${where}: ${scope}: write`);
      }
    }
  }
  return { idToken: idToken.sort(), otherWrites };
}

describe('GitHub workflows: every action pinned by commit', () => {
  it('finds the workflows and the composite action', () => {
    expect(workflowFiles.sort()).toEqual(['deploy-environment.yml', 'deploy.yml', 'pull-request.yml']);
    expect(actionFiles).toEqual([path.join('..', 'actions', 'setup', 'action.yml')]);
  });

  for (const file of [...workflowFiles, ...actionFiles]) {
    it(`${file}: every uses: is local or owner/repo@<40-hex SHA> with its version in a comment`, () => {
      const text = read(file);
      const refs = usesOf(parse(text));
      expect(refs.length).toBeGreaterThan(0);
      expect(refs.map(pinProblem).filter(Boolean)).toEqual([]);
      for (const line of text.split('\n').filter((l) => /^\s*-?\s*uses:\s+(?!\.\/)/.test(l))) {
        expect(line, 'a pinned action says which release the SHA is').toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    });
  }

  it('rejects a tag, a branch, a short or a 39/41-character SHA, and accepts exactly 40 hex', () => {
    const sha = '11bd71901bbe5b1630ceea73d27597364c9af683';
    expect(pinProblem(`actions/checkout@${sha}`)).toBeUndefined();
    expect(pinProblem(`aws-actions/configure-aws-credentials@${sha}`)).toBeUndefined();
    expect(pinProblem(`actions/checkout@${sha.slice(0, 39)}`)).toMatch(/not pinned/);
    expect(pinProblem(`actions/checkout@${sha}0`)).toMatch(/not pinned/);
    expect(pinProblem(`actions/checkout@${sha.toUpperCase()}`)).toMatch(/not pinned/);
    expect(pinProblem('actions/checkout@v4')).toMatch(/not pinned/);
    expect(pinProblem('actions/checkout@main')).toMatch(/not pinned/);
    expect(pinProblem('./.github/actions/setup')).toBeUndefined();
  });
});

describe('GitHub workflows: permissions', () => {
  it('grants only contents: read by default in every workflow', () => {
    for (const file of workflowFiles) expect(workflow(file).permissions, file).toEqual({ contents: 'read' });
  });

  it('lets only the deployment jobs and the pull-request diff job request an OIDC token', () => {
    const { idToken, otherWrites } = writePermissions();
    expect(idToken).toEqual([
      'deploy-environment.yml:deploy',
      'deploy.yml:dev',
      'deploy.yml:prod',
      'deploy.yml:staging',
      'pull-request.yml:diff',
    ]);
    expect(otherWrites).toEqual([]);
  });

  it('uses no long-lived AWS keys anywhere', () => {
    for (const file of [...workflowFiles, ...actionFiles]) {
      expect(read(file), file).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/i);
    }
  });
});

describe('GitHub workflows: pull requests', () => {
  const wf = workflow('pull-request.yml');
  const runs = (job: string) => (wf.jobs[job]?.steps ?? []).map((s) => s.run ?? '').join('\n');

  it('runs on pull requests to main with the jobs test, synth and diff', () => {
    expect(wf.on).toEqual({ pull_request: { branches: ['main'] } });
    expect(Object.keys(wf.jobs)).toEqual(['test', 'synth', 'diff']);
  });

  it('runs npm test with the full toolchain (Python, Java, Go for actionlint)', () => {
    const setup = wf.jobs.test?.steps?.find((s) => s.uses === './.github/actions/setup');
    expect(setup?.with).toEqual({ full: 'true' });
    expect(runs('test')).toMatch(/^npm test$/m);
  });

  it('synthesizes every environment', () => {
    expect(wf.jobs.synth?.strategy?.matrix.environment).toEqual([...ENVIRONMENT_NAMES]);
    expect(runs('synth')).toContain('npx cdk synth --all -c "env=$ENVIRONMENT"');
  });

  it('diffs every environment against its deployed stacks only when a diff role is configured', () => {
    const diff = wf.jobs.diff;
    const include = diff?.strategy?.matrix.include as { environment: string; role_variable: string }[];
    expect(include.map((i) => i.environment)).toEqual([...ENVIRONMENT_NAMES]);
    expect(include.map((i) => i.role_variable)).toEqual(
      ENVIRONMENT_NAMES.map((e) => `AWS_DIFF_ROLE_ARN_${e.toUpperCase()}`),
    );
    expect(diff?.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    const steps = diff?.steps ?? [];
    expect(steps[0]?.run).toContain('if [ -n "$DIFF_ROLE_ARN" ]');
    for (const step of steps.slice(1))
      expect(step.if, JSON.stringify(step)).toBe("steps.credentials.outputs.present == 'true'");
    expect(runs('diff')).toContain('npx cdk diff --all -c "env=$ENVIRONMENT" --method template');
    expect(diff?.environment).toBeUndefined();
  });
});

describe('GitHub workflows: deployment', () => {
  const deploy = workflow('deploy.yml');
  const environment = workflow('deploy-environment.yml');

  it('deploys dev on every merge to main, then staging, then prod', () => {
    expect(deploy.on).toEqual({ push: { branches: ['main'] }, workflow_dispatch: null });
    expect(Object.keys(deploy.jobs)).toEqual([...ENVIRONMENT_NAMES]);
    ENVIRONMENT_NAMES.forEach((env, i) => {
      const job = deploy.jobs[env];
      expect(job?.uses).toBe('./.github/workflows/deploy-environment.yml');
      expect(job?.with).toEqual({ environment: env });
      expect(job?.needs).toEqual(i === 0 ? undefined : ENVIRONMENT_NAMES[i - 1]);
    });
  });

  it('runs each deployment in the GitHub environment of the same name (prod: required reviewers)', () => {
    const job = environment.jobs.deploy;
    expect(Object.keys(environment.on)).toEqual(['workflow_call']);
    expect(job?.environment).toEqual({ name: gh('inputs.environment') });
    expect(job?.env).toEqual({ ENVIRONMENT: gh('inputs.environment') });
  });

  it('assumes the deploy role by OIDC, deploys every stack, then runs the smoke check', () => {
    const steps = environment.jobs.deploy?.steps ?? [];
    const index = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    const credentials = index((s) => (s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'));
    const cdkDeploy = index((s) => (s.run ?? '').includes('cdk deploy'));
    const smoke = index((s) => (s.run ?? '').includes('.github/scripts/smoke-check.sh'));
    expect(steps[credentials]?.with?.['role-to-assume']).toBe(gh('vars.AWS_DEPLOY_ROLE_ARN'));
    expect(steps[credentials]?.with?.['aws-region']).toBe(gh('steps.settings.outputs.region'));
    expect(steps[cdkDeploy]?.run?.trim()).toBe('npx cdk deploy --all -c "env=$ENVIRONMENT" --require-approval never');
    expect(credentials).toBeGreaterThan(-1);
    expect(cdkDeploy).toBeGreaterThan(credentials);
    expect(smoke).toBeGreaterThan(cdkDeploy);
    expect(steps[smoke]?.env?.EXECUTION_NAME).toBe(
      `${gh('steps.settings.outputs.execution_prefix')}${gh('github.run_id')}-${gh('github.run_attempt')}`,
    );
  });
});
