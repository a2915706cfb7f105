import fc from 'fast-check';
import { Capability } from './capabilities.js';
import { ErrorCode, ResponseHeader, ServerStatus, SessionTrack } from './codes.js';
import { decodeEofPacket, encodeEofPacket } from './eof-packet.js';
import { decodeErrPacket, decodeProgressReport, encodeErrPacket, encodeProgressReport, isProgressReport } from './err-packet.js';
import { decodeOkPacket, decodeSessionState, encodeOkPacket, encodeSessionState, isEofLike, okStatusFlags } from './ok-packet.js';
import { ProtocolError } from './protocol-error.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors, hex } from './framing.test-util.js';
import { m2Packet, m2Packets } from './mysql2.test-util.js';

const P41 = (Capability.Protocol41 | Capability.Transactions) >>> 0;
const TRACK = (P41 | Capability.SessionTrack) >>> 0;

describe('OK packet', () => {
  it('decodes a plain 4.1 OK at every split offset', () => {
    // affected 1, insert id 300, status autocommit, 2 warnings, info
    const payload = hex('00 01 fc2c01 0200 0200', Buffer.from('Rows matched: 1').toString('hex'));
    expect(decodeSplitEverywhere(payload, (p) => decodeOkPacket(p, P41))).toEqual({
      header: 0,
      affectedRows: 1n,
      lastInsertId: 300n,
      statusFlags: ServerStatus.Autocommit,
      warnings: 2,
      info: 'Rows matched: 1',
      sessionState: null,
    });
  });

  it('keeps 64-bit counts exact', () => {
    const ok = decodeOkPacket(encodeOkPacket({ affectedRows: 0xffff_ffff_ffff_fffen, lastInsertId: 1n << 60n }, P41), P41);
    expect(ok.affectedRows).toBe(0xffff_ffff_ffff_fffen);
    expect(ok.lastInsertId).toBe(1n << 60n);
  });

  it('reads session state info with CLIENT_SESSION_TRACK, and its absence', () => {
    const state = encodeSessionState([
      { type: SessionTrack.SystemVariables, name: 'autocommit', value: 'OFF' },
      { type: SessionTrack.Schema, schema: 'shop' },
      { type: SessionTrack.StateChange, changed: true },
      { type: SessionTrack.TransactionState, data: Buffer.from('T_______') },
    ]);
    const payload = encodeOkPacket({ statusFlags: ServerStatus.InTrans, info: '', sessionState: state }, TRACK);
    const ok = decodeSplitEverywhere(payload, (p) => decodeOkPacket(p, TRACK));
    expect(ok.statusFlags).toBe(ServerStatus.InTrans | ServerStatus.SessionStateChanged);
    expect(decodeSessionState(ok.sessionState!)).toEqual([
      { type: SessionTrack.SystemVariables, name: 'autocommit', value: 'OFF' },
      { type: SessionTrack.Schema, schema: 'shop' },
      { type: SessionTrack.StateChange, changed: true },
      { type: SessionTrack.TransactionState, data: Buffer.from('T_______') },
    ]);
    // MySQL omits the empty info entirely when nothing changed
    expect(decodeOkPacket(hex('00 00 00 0200 0000'), TRACK)).toMatchObject({ info: '', sessionState: null });
    expect(encodeOkPacket({}, TRACK)).toEqual(hex('00 00 00 0200 0000'));
  });

  it('the 0xFE form that replaces EOF under CLIENT_DEPRECATE_EOF', () => {
    const payload = encodeOkPacket({ header: ResponseHeader.Eof, statusFlags: ServerStatus.MoreResultsExists | ServerStatus.Autocommit, warnings: 1 }, P41);
    expect(isEofLike(payload, true)).toBe(true);
    expect(decodeOkPacket(payload, P41)).toMatchObject({ header: 0xfe, statusFlags: 10, warnings: 1 });
    expect(okStatusFlags(payload, P41)).toBe(10);
    expect(isEofLike(Buffer.alloc(0xfffffe, 0xfe), true)).toBe(true);
    expect(isEofLike(Buffer.alloc(0xffffff, 0xfe), true)).toBe(false);
    expect(isEofLike(Buffer.alloc(9, 0xfe), false)).toBe(false);
  });

  it('pre-4.1 layouts', () => {
    expect(decodeOkPacket(hex('00 01 00 0300', Buffer.from('x').toString('hex')), Capability.Transactions)).toMatchObject({ statusFlags: 3, warnings: 0, info: 'x' });
    expect(decodeOkPacket(hex('00 01 00'), 0)).toMatchObject({ statusFlags: 0, info: '' });
  });

  it('matches mysql2', () => {
    const theirs = new m2Packets.ResultSetHeader(m2Packet(encodeOkPacket({ affectedRows: 5, lastInsertId: 9, statusFlags: 2, warnings: 0, info: 'hi' }, P41)), { config: {}, serverEncoding: 'utf8', _handshakePacket: { capabilityFlags: P41 } });
    expect(theirs.affectedRows).toBe(5);
    expect(theirs.insertId).toBe(9);
    expect(theirs.info).toBe('hi');
    expect(theirs.serverStatus).toBe(2);
  });

  it('property: round-trips', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(0xffff), fc.nat(0xffff), fc.string(), fc.boolean(), fc.boolean(), (a, b, status, warnings, info, track, withState) => {
        const caps = track ? TRACK : P41;
        const sessionState = withState ? encodeSessionState([{ type: SessionTrack.Schema, schema: info }]) : null;
        const ok = decodeOkPacket(encodeOkPacket({ affectedRows: a, lastInsertId: b, statusFlags: status, warnings, info, sessionState }, caps), caps);
        const expStatus = track && sessionState ? status | ServerStatus.SessionStateChanged : status & ~ServerStatus.SessionStateChanged;
        expect(ok).toEqual({ header: 0, affectedRows: a, lastInsertId: b, statusFlags: expStatus, warnings, info, sessionState: track ? sessionState : null });
      }),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors((p) => decodeOkPacket(p, TRACK), [0]);
    expectOnlyProtocolErrors((p) => decodeOkPacket(p, P41));
    expectOnlyProtocolErrors(decodeSessionState);
    expectOnlyProtocolErrors((p) => okStatusFlags(p, P41), [0]);
  });
});

describe('ERR packet', () => {
  it('encodes and decodes with the SQLSTATE marker, at every split offset', () => {
    const payload = encodeErrPacket({ errorCode: ErrorCode.SpecificAccessDenied, sqlState: '42000', message: 'denied by rule no-ddl' });
    expect(payload.subarray(0, 9)).toEqual(Buffer.concat([hex('ff cb04'), Buffer.from('#42000')]));
    expect(decodeSplitEverywhere(payload, decodeErrPacket)).toEqual({ errorCode: 1227, sqlState: '42000', message: 'denied by rule no-ddl' });
  });

  it('the pre-4.1 form and errors sent before the handshake have no SQLSTATE', () => {
    const old = encodeErrPacket({ errorCode: 1040, message: 'Too many connections' }, 0);
    expect(decodeErrPacket(old)).toEqual({ errorCode: 1040, sqlState: null, message: 'Too many connections' });
    expect(() => encodeErrPacket({ errorCode: 1, sqlState: '4200', message: '' })).toThrow(RangeError);
    expect(encodeErrPacket({ errorCode: 1, message: 'x' }).subarray(3, 9).toString()).toBe('#HY000');
  });

  it('matches mysql2', () => {
    const payload = encodeErrPacket({ errorCode: 1064, sqlState: '42000', message: 'You have an error' });
    const pkt = m2Packet(payload);
    expect(pkt.isError()).toBe(true);
    const e = pkt.asError('utf8');
    expect(e.errno).toBe(1064);
    expect(e.sqlState).toBe('42000');
    expect(e.message).toBe('You have an error');
  });

  it('MariaDB progress reports', () => {
    const payload = encodeProgressReport({ stage: 1, maxStage: 2, progress: 50000, info: 'copy to tmp table' });
    expect(isProgressReport(payload)).toBe(true);
    expect(isProgressReport(encodeErrPacket({ errorCode: 1, message: '' }))).toBe(false);
    expect(decodeSplitEverywhere(payload, decodeProgressReport)).toEqual({ stage: 1, maxStage: 2, progress: 50000, info: 'copy to tmp table' });
    expect(() => decodeProgressReport(encodeErrPacket({ errorCode: 1, message: '' }))).toThrow(ProtocolError);
  });

  it('property: round-trips and random bytes throw only ProtocolError', () => {
    fc.assert(
      fc.property(fc.nat(0xfffe), fc.stringMatching(/^[0-9A-Z]{5}$/), fc.string(), (errorCode, sqlState, message) => {
        expect(decodeErrPacket(encodeErrPacket({ errorCode, sqlState, message }))).toEqual({ errorCode, sqlState, message });
      }),
    );
    expectOnlyProtocolErrors(decodeErrPacket, [0xff]);
    expectOnlyProtocolErrors(decodeProgressReport, [0xff, 0xff, 0xff]);
  });
});

describe('EOF packet', () => {
  it('encodes and decodes, at every split offset', () => {
    const payload = encodeEofPacket({ warnings: 3, statusFlags: ServerStatus.MoreResultsExists });
    expect(payload).toEqual(hex('fe 0300 0800'));
    expect(decodeSplitEverywhere(payload, decodeEofPacket)).toEqual({ warnings: 3, statusFlags: 8 });
    expect(decodeEofPacket(encodeEofPacket({ warnings: 0, statusFlags: 0 }, 0))).toEqual({ warnings: 0, statusFlags: 0 });
    expect(() => decodeEofPacket(Buffer.alloc(9, 0xfe))).toThrow(ProtocolError);
    expect(m2Packet(payload).isEOF()).toBe(true);
  });

  it('property: random bytes throw only ProtocolError', () => expectOnlyProtocolErrors(decodeEofPacket, [0xfe]));
});
