import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * Every alarm of the stack: it fires when one period's value reaches the threshold, and a period
 * without data is fine (sparse metrics such as Errors or ThrottledRequests publish nothing when all
 * is well). The description names the stage, since stages may share an account.
 */
export function alarmAtLeast(scope: Construct, id: string, stage: string, metric: IMetric, threshold: number, description: string): Alarm {
  return new Alarm(scope, id, {
    metric,
    threshold,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: `${description} (${stage})`,
  });
}
