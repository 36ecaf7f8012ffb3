import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import type { Campaigns } from '../../infra/constructs/campaigns.ts';
import { NO_BUNDLING } from './no-bundling.ts';

/**
 * Downstream services consume the campaign queue: in the stack's account through
 * Campaigns.grantConsume, from other accounts named in the campaignConsumerAccounts context.
 * Either way they get the queue and its own key, never the lake's key.
 */
describe('campaign queue consumers', () => {
  it('of other accounts are named in the queue policy and, for decryption through SQS only, in the queue key policy', () => {
    const { stack } = buildApp(new App({ context: { ...NO_BUNDLING, campaignConsumerAccounts: '111122223333,444455556666' } }));
    const campaigns = stack.node.findChild('Campaigns') as Campaigns;
    const consumer = new Role(stack, 'Consumer', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    campaigns.grantConsume(consumer);
    const template = Template.fromStack(stack);
    const queueId = Stack.of(stack).getLogicalId(campaigns.queue.queue.node.defaultChild as never);
    const keyId = Stack.of(stack).getLogicalId(campaigns.queueKey.node.defaultChild as never);

    const queuePolicy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((policy) =>
      JSON.stringify(policy.Properties.Queues).includes(queueId),
    )!;
    const queueStatements = queuePolicy.Properties.PolicyDocument.Statement as { Sid?: string; Principal?: unknown; Action: string[] }[];
    for (const account of ['111122223333', '444455556666']) {
      const statement = queueStatements.find((each) => each.Sid === `Consumer${account}`)!;
      expect(JSON.stringify(statement.Principal)).toContain(`:iam::${account}:root`);
      expect(statement.Action.sort()).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    }
    const key = template.findResources('AWS::KMS::Key')[keyId]!;
    const keyStatements = key.Properties.KeyPolicy.Statement as {
      Sid?: string;
      Action: string | string[];
      Condition?: Record<string, Record<string, unknown>>;
    }[];
    const forConsumer = keyStatements.find((each) => each.Sid === 'Consumer111122223333')!;
    expect(forConsumer.Action).toBe('kms:Decrypt');
    expect(JSON.stringify(forConsumer.Condition!['StringEquals']!['kms:ViaService'])).toContain('sqs.');

    const consumerPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ConsumerDefaultPolicy'))![1];
    const text = JSON.stringify(consumerPolicy.Properties.PolicyDocument);
    expect(text).toContain('sqs:ReceiveMessage');
    expect(text).toContain(keyId);
    expect(text).not.toContain('LakeKey');
  }, 120_000);

  it('are refused unless named by account id', () => {
    expect(() => buildApp(new App({ context: { ...NO_BUNDLING, campaignConsumerAccounts: 'team-a' } }))).toThrow(
      /campaignConsumerAccounts: must be 12-digit AWS account ids/,
    );
  });
});
