import { serialize } from 'pg-protocol';
import { sqlOf } from './decode.js';
import { parseMessage, queryMessage } from './frontend-messages.js';

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

describe('sqlOf', () => {
  test('the text of a Query and of a Parse', () => {
    expect(sqlOf(queryMessage('SELECT ë'))).toBe('SELECT ë');
    expect(sqlOf(serialize.query(''))).toBe('');
    expect(sqlOf(parseMessage('s1', 'SELECT $1', [23]))).toBe('SELECT $1');
    expect(sqlOf(serialize.parse({ text: 'COPY t FROM STDIN' }))).toBe('COPY t FROM STDIN');
  });

  test('a view into a larger buffer, and a plain Uint8Array', () => {
    const q = queryMessage('SELECT 2');
    const within = Buffer.concat([Buffer.from('xx'), q, Buffer.from('yy\0')]).subarray(2, 2 + q.length);
    expect(sqlOf(within)).toBe('SELECT 2');
    expect(sqlOf(new Uint8Array(q))).toBe('SELECT 2');
  });

  test('undefined for other messages and for frames shorter than a header', () => {
    expect(sqlOf(serialize.sync())).toBeUndefined();
    expect(sqlOf(serialize.bind())).toBeUndefined();
    expect(sqlOf(Buffer.from([0x51, 0, 0, 0]))).toBeUndefined();
    expect(sqlOf(Buffer.alloc(0))).toBeUndefined();
  });

  test('lenient: unchecked tail, unterminated text runs to the end, unterminated Parse name has no text', () => {
    expect(sqlOf(frame('Q', Buffer.from('SELECT 1\0junk')))).toBe('SELECT 1');
    expect(sqlOf(frame('Q', Buffer.from('SELECT 1')))).toBe('SELECT 1');
    expect(sqlOf(frame('P', Buffer.from('name\0SELECT 3')))).toBe('SELECT 3');
    expect(sqlOf(frame('P', Buffer.from('name\0')))).toBe('');
    expect(sqlOf(frame('P', Buffer.from('name')))).toBeUndefined();
  });
});
