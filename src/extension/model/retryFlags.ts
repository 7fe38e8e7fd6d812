import type { Bucket } from './treeModel';

/**
 * The flags that run exactly this unit again (Retry This Unit). `--unit` alone skips a unit
 * that has an outcome, so an error or a failure is requeued too; a passed unit has nothing to
 * retry (undefined).
 */
export function retryFlags(bucket: Bucket, unitId: string): string[] | undefined {
  if (bucket === 'passed') return undefined;
  const requeue = bucket === 'error' ? ['--retry-errors'] : bucket === 'failed' ? ['--retry-failed'] : [];
  return [...requeue, '--unit', unitId];
}
