/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. cdk-nag's AwsSolutions checks run as a
 * validation plugin, so synth fails on any finding that is not acknowledged with a reason.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeploymentConfig } from './config.ts';
import { PipelineStack } from './pipeline-stack.ts';

export function buildApp(app: App = new App()): { app: App; stack: PipelineStack } {
  const keys = ['scheduleTime', 'scheduleTimezone', 'bytesScannedCutoffPerQuery', 'queryResultRetentionDays', 'campaignConsumerAccounts', 'pipelineConfig'];
  const context = Object.fromEntries(keys.map((key) => [key, app.node.tryGetContext(key)]).filter(([, value]) => value !== undefined));
  const stack = new PipelineStack(app, app.node.tryGetContext('stackName') ?? 'CustomerMarketingPipeline', {
    deployment: readDeploymentConfig(context),
    env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
    description: 'Customer-marketing pipeline: ingest, lake, Athena job graph, campaign queue',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
