import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';

/**
 * Whether the execution named by a run lease's holder has ended long enough ago that nothing it
 * started can still be running: Step Functions does not stop a Lambda invocation when it stops
 * an execution, so a stopped or timed-out execution's compaction or promotion may go on for up
 * to its function's timeout (15 minutes). An execution that is running, ended more recently, or
 * cannot be described for another reason keeps its lease.
 */
export function executionGone(
  client: SFNClient,
  graceMs: number,
  onError: (holder: string, error: unknown) => void,
  now: () => Date = () => new Date(),
): (holder: string) => Promise<boolean> {
  return async (holder) => {
    if (!/^arn:aws[a-z-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(holder)) return false;
    try {
      const execution = await client.send(new DescribeExecutionCommand({ executionArn: holder }));
      if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') return false;
      return execution.stopDate !== undefined && now().getTime() - execution.stopDate.getTime() >= graceMs;
    } catch (error) {
      // Executions are described for 90 days after they end; one that no longer exists has ended.
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return true;
      onError(holder, error);
      return false;
    }
  };
}
