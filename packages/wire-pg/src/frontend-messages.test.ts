import { serialize } from 'pg-protocol';
import { copyFailMessage, startupMessage, SYNC } from './frontend-messages.js';
import { decodeStartupPacket } from './decode.js';

describe('frontend message builders match pg-protocol', () => {
  test('Sync', () => {
    expect(SYNC).toEqual(serialize.sync());
  });

  test('CopyFail', () => {
    expect(copyFailMessage('no more data')).toEqual(serialize.copyFail('no more data'));
    expect(copyFailMessage('')).toEqual(serialize.copyFail(''));
  });

  test('StartupMessage, parameters in order', () => {
    const params = { user: 'postgres', database: 'db', client_encoding: 'UTF8' };
    // pg-protocol appends client_encoding itself
    expect(startupMessage(params)).toEqual(serialize.startup({ user: 'postgres', database: 'db' }));
    expect(decodeStartupPacket(startupMessage(params))).toEqual({ kind: 'startup', major: 3, minor: 0, params: new Map(Object.entries(params)) });
    expect(startupMessage({})).toEqual(Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0]));
  });
});
