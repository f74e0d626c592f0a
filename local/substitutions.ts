/**
 * The local DefinitionSubstitutions of an ASL file, built from its placeholders by the naming rules of the
 * conventions (docs/local-runtime.md lists them). A placeholder no rule covers fails with its name.
 */
import { placeholdersOf } from '../lib/constructs/orchestration/asl-definition.js';
import { sqlQuerySubstitution } from '../lib/contracts/sql-queries.js';
import {
  bucketName,
  kebab,
  LAKE_ZONES,
  type LakeZone,
  LOCAL_ENVIRONMENT_NAME,
  LOCAL_KMS_KEY_ARN,
  LOCAL_PREFIX,
  lambdaArn,
  roleArn,
  snake,
  stateMachineArn,
  topicArn,
} from './constants.js';

export const LOCAL_TRAINING_IMAGE = 'local/xgboost:3.0-5';

interface Rule {
  /** What the rule covers, for error messages and docs. */
  pattern: string;
  apply: (name: string) => string | undefined;
}

const fixed: Record<string, string> = {
  GlueDatabase: 'clv_local',
  AthenaWorkGroup: 'clv-local',
  ModelPackageGroupName: `${LOCAL_PREFIX}-clv-models`,
  SageMakerRoleArn: roleArn('sagemaker'),
  TrainingImageUri: LOCAL_TRAINING_IMAGE,
  FeatureGroupName: `${LOCAL_PREFIX}-customer-features`,
  KmsKeyArn: LOCAL_KMS_KEY_ARN,
  EnvironmentName: LOCAL_ENVIRONMENT_NAME,
};

const suffixRule = (suffix: string, pattern: string, value: (stem: string) => string): Rule => ({
  pattern,
  apply: (name) => {
    if (!name.endsWith(suffix) || name.length === suffix.length) return undefined;
    return value(name.slice(0, -suffix.length));
  },
});

/** The rules, first match wins. */
export const LOCAL_RULES: Rule[] = [
  { pattern: Object.keys(fixed).join(', '), apply: (name) => fixed[name] },
  suffixRule('FunctionArn', '<Name>FunctionArn → Lambda lambdas/<name-kebab>/handler.ts', (s) => lambdaArn(kebab(s))),
  suffixRule('JobName', '<Name>JobName → Glue job glue-scripts/jobs/<name_snake>.py', (s) => snake(s)),
  {
    pattern: `<Zone>Bucket (${LAKE_ZONES.join(', ')}) → clv-local-<zone-kebab>`,
    apply: (name) => {
      const zone = name.endsWith('Bucket') ? name.slice(0, -'Bucket'.length) : '';
      return (LAKE_ZONES as readonly string[]).includes(zone) ? bucketName(zone as LakeZone) : undefined;
    },
  },
  suffixRule('Query', '<Name>Query → SQL text of SQL_QUERIES[<Name>Query]', (s) => sqlQuerySubstitution(`${s}Query`)),
  suffixRule('TopicArn', '<Name>TopicArn → SNS topic clv-local-<name-kebab>', (s) => topicArn(kebab(s))),
  suffixRule('StateMachineArn', '<Name>StateMachineArn → state-machines/<name-kebab>.asl.json', (s) =>
    stateMachineArn(kebab(s)),
  ),
];

/** The local value of one placeholder, or an error that names it and lists the rules. */
export function localSubstitution(name: string): string {
  for (const rule of LOCAL_RULES) {
    const value = rule.apply(name);
    if (value !== undefined) return value;
  }
  throw new Error(
    `placeholder \${${name}} has no local rule; known rules: ${LOCAL_RULES.map((r) => r.pattern).join('; ')}`,
  );
}

/** The full substitution map for a definition text (every placeholder it uses, no other). */
export function localSubstitutions(fileName: string, text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const name of placeholdersOf(text)) {
    try {
      map[name] = localSubstitution(name);
    } catch (err) {
      throw new Error(`state-machines/${fileName}: ${(err as Error).message}`);
    }
  }
  return map;
}
