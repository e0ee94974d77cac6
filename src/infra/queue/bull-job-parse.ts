import Bull from 'bull';

type FromJson = (queue: unknown, json: Record<string, unknown> | null, jobId?: string) => unknown;
const JobClass = (Bull as unknown as { Job: { fromJSON: FromJson } }).Job;
const PATCHED = Symbol.for('nest-commerce.bull-job-parse');

/**
 * Bull 4 reads every job it fetches (to process it, to finish it, getJob) through `Job.fromJSON`,
 * which parses the job's `stacktrace` field with `JSON.parse` — also when the job never failed and
 * has no such field: `JSON.parse(undefined)` throws a SyntaxError (a stack captured, then caught
 * and dropped) for nearly every job. A CPU profile of the order follow-up drain put that at about
 * 4 % of the worker (decision 0029). A job without the field is given an empty list first; Bull's
 * own parse then answers the same `[]`, with nothing thrown. Idempotent; applied on import.
 */
export function avoidBullStacktraceThrow(): void {
  const holder = JobClass as unknown as Record<symbol, boolean>;
  if (holder[PATCHED]) return;
  const original = JobClass.fromJSON;
  JobClass.fromJSON = function (this: unknown, queue, json, jobId) {
    if (json && json.stacktrace === undefined) json.stacktrace = '[]';
    return original.call(this, queue, json, jobId);
  };
  holder[PATCHED] = true;
}

avoidBullStacktraceThrow();
