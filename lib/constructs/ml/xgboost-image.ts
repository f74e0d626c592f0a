/**
 * The SageMaker XGBoost framework container the training, tuning, evaluation and serving code runs in
 * (sagemaker/ is pinned to its xgboost: 3.0.5). Images live in a SageMaker-owned ECR registry whose account differs
 * by region; the table is the `sagemaker-xgboost` registries of the SageMaker Python SDK
 * (src/sagemaker/image_uri_config/xgboost.json, the same accounts for every framework version from 0.90-1 on),
 * limited to the commercial `aws` partition (the platform's target partition, cdk.json).
 */
import { Token } from 'aws-cdk-lib';

/** Framework version (image tag) of the SageMaker XGBoost container. */
export const XGBOOST_FRAMEWORK_VERSION = '3.0-5';
/** ECR repository of the framework container in each registry. */
export const XGBOOST_REPOSITORY = 'sagemaker-xgboost';

/** Account of the SageMaker XGBoost image registry per region (commercial partition). */
export const XGBOOST_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'ca-west-1': '190319476487',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '801668240914',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

/** The registry account of a region, failing with the supported regions when the region is unknown or a token. */
export function xgboostRegistryAccount(region: string): string {
  if (Token.isUnresolved(region)) {
    throw new Error(
      'The SageMaker XGBoost image URI needs a concrete region: give the stack env.region (the environment config does)',
    );
  }
  const account = XGBOOST_REGISTRY_ACCOUNTS[region];
  if (account === undefined) {
    throw new Error(
      `No SageMaker XGBoost ${XGBOOST_FRAMEWORK_VERSION} image registry is known for region '${region}'; supported regions: ${Object.keys(XGBOOST_REGISTRY_ACCOUNTS).join(', ')} (add the account to XGBOOST_REGISTRY_ACCOUNTS in lib/constructs/ml/xgboost-image.ts)`,
    );
  }
  return account;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-xgboost:3.0-5` for the region. */
export function xgboostImageUri(region: string): string {
  return `${xgboostRegistryAccount(region)}.dkr.ecr.${region}.amazonaws.com/${XGBOOST_REPOSITORY}:${XGBOOST_FRAMEWORK_VERSION}`;
}

/** The ECR repository ARN of the image (for the execution role's image-pull permissions). */
export function xgboostRepositoryArn(region: string): string {
  return `arn:aws:ecr:${region}:${xgboostRegistryAccount(region)}:repository/${XGBOOST_REPOSITORY}`;
}
