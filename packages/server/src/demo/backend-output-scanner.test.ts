import { copyInResponse, errorResponse, readyForQuery } from '@sqlwarden/wire-pg';
import { BackendOutputScanner, dropFirstMessage } from './backend-output-scanner.js';

const commandComplete = (tag: string): Buffer => {
  const body = Buffer.from(`${tag}\0`);
  const head = Buffer.alloc(5);
  head.write('C', 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

describe('BackendOutputScanner', () => {
  const stream = Buffer.concat([
    copyInResponse(false),
    commandComplete('COPY 2'),
    readyForQuery('T'),
    errorResponse({ severity: 'ERROR', code: '42P01', message: 'Z marks the spot' }),
    readyForQuery('E'),
  ]);

  test('finds the last ReadyForQuery status and a CopyInResponse, split at every offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      for (let cut2 = cut; cut2 <= stream.length; cut2 += 7) {
        const s = new BackendOutputScanner();
        s.push(stream.subarray(0, cut));
        s.push(stream.subarray(cut, cut2));
        s.push(stream.subarray(cut2));
        expect([cut, cut2, s.lastReadyStatus, s.sawCopyIn]).toEqual([cut, cut2, 'E', true]);
      }
    }
  });

  test('byte by byte', () => {
    const s = new BackendOutputScanner();
    const only = Buffer.concat([commandComplete('SELECT 1'), readyForQuery('I')]);
    for (const b of only) s.push(Buffer.from([b]));
    expect(s.lastReadyStatus).toBe('I');
    expect(s.sawCopyIn).toBe(false);
  });

  test('no ReadyForQuery: undefined', () => {
    const s = new BackendOutputScanner();
    s.push(commandComplete('SELECT 1'));
    expect(s.lastReadyStatus).toBeUndefined();
  });
});

describe('dropFirstMessage', () => {
  test('removes only the first message of the type', () => {
    const out = dropFirstMessage(Buffer.concat([copyInResponse(false), commandComplete('COPY 1'), readyForQuery('I')]), 0x47);
    expect(out).toEqual(Buffer.concat([commandComplete('COPY 1'), readyForQuery('I')]));
    expect(dropFirstMessage(readyForQuery('I'), 0x47)).toEqual(readyForQuery('I'));
  });
});
