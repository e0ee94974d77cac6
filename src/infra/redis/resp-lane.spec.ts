import { LaneReplyError, encode, parse } from './resp-lane';

describe('RespLane RESP2 encoding and parsing', () => {
  it('encodes a command as an array of bulk strings, lengths in bytes', () => {
    expect(encode(['HGET', 'k', 'é', 7])).toBe('*4\r\n$4\r\nHGET\r\n$1\r\nk\r\n$2\r\né\r\n$1\r\n7\r\n');
  });

  const replies = Buffer.from(
    '+OK\r\n:42\r\n$-1\r\n$4\r\nhé!\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n-ERR bad\r\n*-1\r\n*2\r\n-ERR inner\r\n:1\r\n',
  );
  const all = (buf: Buffer) => {
    const out: unknown[] = [];
    let at = 0;
    for (;;) {
      const r = parse(buf, at);
      if (typeof r === 'symbol') return { out, at };
      out.push(r.value instanceof LaneReplyError ? `error: ${r.value.message}` : r.value);
      at = r.end;
    }
  };

  it('parses every reply type, nested arrays, nil and errors (an error inside an array is the reply)', () => {
    expect(all(replies)).toEqual({
      out: ['OK', 42, null, 'hé!', [1, ['a', null], ''], 'error: ERR bad', null, 'error: ERR inner'],
      at: replies.length,
    });
  });

  it('says "incomplete" at every cut inside a reply and resumes from the same place', () => {
    const whole = all(replies).out;
    for (let cut = 0; cut < replies.length; cut++) {
      const first = all(replies.subarray(0, cut));
      const rest = all(replies.subarray(first.at));
      expect([...first.out, ...rest.out]).toEqual(whole);
    }
  });
});
