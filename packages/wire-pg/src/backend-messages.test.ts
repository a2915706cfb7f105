import { PassThrough } from 'node:stream';
import { parse } from 'pg-protocol';
import { copyInResponse } from './backend-messages.js';

/** Backend messages as pg's own parser (pg-protocol) reads them. */
async function parsed(bytes: Buffer): Promise<unknown[]> {
  const stream = new PassThrough();
  const out: unknown[] = [];
  const done = parse(stream, (m) => out.push(m));
  stream.end(bytes);
  await done;
  return out;
}

describe('copyInResponse', () => {
  test('no columns: the overall format only', () => {
    expect(copyInResponse(false)).toEqual(Buffer.from([0x47, 0, 0, 0, 7, 0, 0, 0]));
    expect(copyInResponse(true)).toEqual(Buffer.from([0x47, 0, 0, 0, 7, 1, 0, 0]));
  });

  test('per-column formats repeat the overall one, as pg-protocol reads them', async () => {
    const [text, binary] = await parsed(Buffer.concat([copyInResponse(false, 3), copyInResponse(true, 2)]));
    expect(text).toMatchObject({ name: 'copyInResponse', length: 13, binary: false, columnTypes: [0, 0, 0] });
    expect(binary).toMatchObject({ name: 'copyInResponse', length: 11, binary: true, columnTypes: [1, 1] });
  });
});
