import Bull from 'bull';
import './bull-job-parse';

const Job = (Bull as unknown as { Job: { fromJSON: (q: unknown, json: object, id?: string) => Bull.Job } })
  .Job;
const raw = (extra: object = {}) => ({
  name: 'x',
  data: '{"a":1}',
  opts: '{"attempts":3}',
  timestamp: '1',
  delay: '0',
  priority: '0',
  ...extra,
});
const fakeQueue = { client: {}, eclient: {}, keyPrefix: 'p', toKey: (k: string) => k };

describe('Bull job parsing without a thrown SyntaxError', () => {
  it('a job that never failed reads with an empty stacktrace, and JSON.parse is never given undefined', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const job = Job.fromJSON(fakeQueue, raw(), '1');
      expect(job.stacktrace).toEqual([]);
      expect(job.data).toEqual({ a: 1 });
      expect(job.opts).toMatchObject({ attempts: 3 });
      expect(parse.mock.calls.filter(([text]) => text === undefined)).toEqual([]);
    } finally {
      parse.mockRestore();
    }
  });

  it('a failed job keeps its stack traces', () => {
    const job = Job.fromJSON(fakeQueue, raw({ stacktrace: JSON.stringify(['Error: boom']) }), '2');
    expect(job.stacktrace).toEqual(['Error: boom']);
  });
});
