import { FrameAction, FrameScanner, type FrameConsumer } from './frame-scanner.js';
import { ProtocolError } from './protocol-error.js';
import { queryMessage, parseMessage } from './frontend-messages.js';
import { errorResponse, readyForQuery } from './backend-messages.js';

function dataRow(n: number): Buffer {
  const body = Buffer.alloc(n, 0x61);
  const b = Buffer.alloc(5 + n);
  b[0] = 0x44;
  b.writeInt32BE(4 + n, 1);
  body.copy(b, 5);
  return b;
}

/** Runs a stream through the scanner in the given chunks; returns forwarded bytes and whole frames seen. */
function run(stream: Buffer, cuts: number[], want: string, action: (t: number, f: Buffer) => FrameAction | Buffer = () => FrameAction.Forward) {
  const out: Buffer[] = [];
  const seen: string[] = [];
  const consumer: FrameConsumer = {
    onFrame(t, f) {
      seen.push(String.fromCharCode(t) + ':' + f.length);
      return action(t, f);
    },
    onPass(b) {
      out.push(Buffer.from(b));
    },
  };
  const s = new FrameScanner(consumer, 1 << 20);
  for (const c of want) s.wantWhole[c.charCodeAt(0)] = 1;
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    s.push(stream.subarray(prev, c));
    prev = c;
  }
  return { out: Buffer.concat(out), seen, scanner: s };
}

describe('FrameScanner', () => {
  const stream = Buffer.concat([queryMessage('select 1'), dataRow(3), dataRow(700), parseMessage('s1', 'select $1', [23]), readyForQuery('T'), dataRow(0)]);

  it('forwards every byte unchanged and offers wanted frames, at every split offset', () => {
    const whole = run(stream, [], 'QPZ');
    expect(whole.out.equals(stream)).toBe(true);
    expect(whole.seen).toEqual(['Q:14', 'P:24', 'Z:6']);
    for (let i = 0; i <= stream.length; i++) {
      const r = run(stream, [i], 'QPZ');
      expect(r.out.equals(stream)).toBe(true);
      expect(r.seen).toEqual(whole.seen);
      expect(r.scanner.atBoundary).toBe(true);
    }
  });

  it('handles every pair of split offsets', () => {
    for (let i = 0; i <= stream.length; i += 7) {
      for (let j = i; j <= stream.length; j += 5) {
        const r = run(stream, [i, j], 'QPZ');
        expect(r.out.equals(stream)).toBe(true);
        expect(r.seen).toEqual(['Q:14', 'P:24', 'Z:6']);
      }
    }
  });

  it('replaces and drops frames in order', () => {
    const repl = errorResponse({ severity: 'ERROR', code: '42501', message: 'no' });
    for (let i = 0; i <= stream.length; i += 3) {
      const r = run(stream, [i], 'QPZ', (t) => (t === 0x50 ? repl : t === 0x5a ? FrameAction.Drop : FrameAction.Forward));
      const expected = Buffer.concat([queryMessage('select 1'), dataRow(3), dataRow(700), repl, dataRow(0)]);
      expect(r.out.equals(expected)).toBe(true);
    }
  });

  it('pauses and resumes without losing or reordering bytes', () => {
    const out: Buffer[] = [];
    let pauses = 0;
    const s = new FrameScanner(
      {
        onFrame: (t) => (t === 0x50 && pauses++ === 0 ? FrameAction.Pause : FrameAction.Forward),
        onPass: (b) => out.push(Buffer.from(b)),
      },
      1 << 20,
    );
    s.wantWhole[0x50] = 1;
    s.push(stream.subarray(0, 50));
    s.push(stream.subarray(50));
    expect(s.isPaused).toBe(true);
    s.resume();
    expect(Buffer.concat(out).equals(stream)).toBe(true);
  });

  it('rejects lying lengths and oversized wanted frames with ProtocolError', () => {
    const bad = Buffer.from([0x51, 0, 0, 0, 2]);
    expect(() => run(bad, [], 'Q')).toThrow(ProtocolError);
    const big = Buffer.from([0x51, 0x7f, 0, 0, 0]);
    expect(() => run(big, [], 'Q')).toThrow(ProtocolError);
  });

  it('streams a pass-through frame larger than any chunk without holding it', () => {
    const big = dataRow(5 << 20);
    const sizes: number[] = [];
    const s = new FrameScanner({ onFrame: () => FrameAction.Forward, onPass: (b) => sizes.push(b.length) }, 1024);
    for (let o = 0; o < big.length; o += 65536) s.push(big.subarray(o, o + 65536));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(big.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65536);
  });
});
