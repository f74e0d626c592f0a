/** The ModelRegistry over the SageMaker Model Registry (AWS SDK v3). */
import { DescribeModelPackageCommand, ListModelPackagesCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ModelRegistry, PackageDetail, PackageRef } from './registry.js';

export class SageMakerModelRegistry implements ModelRegistry {
  constructor(private readonly client: SageMakerClient) {}

  async listApproved(group: string): Promise<PackageRef[]> {
    return this.list(group, 'Approved');
  }

  async listAll(group: string): Promise<PackageRef[]> {
    return this.list(group, undefined);
  }

  private async list(group: string, status: 'Approved' | undefined): Promise<PackageRef[]> {
    const out: PackageRef[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: group,
          ModelApprovalStatus: status,
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          NextToken: token,
        }),
      );
      for (const s of page.ModelPackageSummaryList ?? []) {
        if (s.ModelPackageArn) out.push({ arn: s.ModelPackageArn, version: s.ModelPackageVersion ?? 0 });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async describe(arn: string): Promise<PackageDetail> {
    const d = await this.client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    const container = d.InferenceSpecification?.Containers?.[0];
    if (!container?.ModelDataUrl || !container.Image) {
      throw new Error(`model package ${arn} has no inference container with an image and ModelDataUrl`);
    }
    return {
      arn,
      version: d.ModelPackageVersion ?? 0,
      approvalStatus: d.ModelApprovalStatus ?? 'PendingManualApproval',
      metadata: { ...(d.CustomerMetadataProperties ?? {}) },
      image: container.Image,
      modelDataUrl: container.ModelDataUrl,
      environment: { ...(container.Environment ?? {}) },
    };
  }
}
