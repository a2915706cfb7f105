import fc from 'fast-check';
import { Capability } from './capabilities.js';
import { BulkFlag, BulkIndicator, Command, CursorType, SetOption } from './codes.js';
import { ColumnType } from './column-type.js';
import { decodeBinaryValue } from './binary-value.js';
import { commandHasResponse, commandName, commandOf, encodeSimpleCommand } from './command.js';
import { decodeComChangeUser, encodeComChangeUser } from './com-change-user.js';
import { decodeComFieldList, encodeComFieldList } from './com-field-list.js';
import { decodeComInitDb, encodeComInitDb } from './com-init-db.js';
import { decodeComProcessKill, encodeComProcessKill } from './com-process-kill.js';
import { decodeComQuery, encodeComQuery } from './com-query.js';
import { decodeComSetOption, encodeComSetOption } from './com-set-option.js';
import { decodeComStmtBulkExecute, encodeComStmtBulkExecute } from './com-stmt-bulk-execute.js';
import { decodeComStmtClose, encodeComStmtClose } from './com-stmt-close.js';
import { decodeComStmtExecute, encodeComStmtExecute, parameterValue, type BoundParameterInit } from './com-stmt-execute.js';
import { decodeComStmtFetch, encodeComStmtFetch } from './com-stmt-fetch.js';
import { decodeComStmtPrepare, decodeComStmtPrepareOk, encodeComStmtPrepare, encodeComStmtPrepareOk } from './com-stmt-prepare.js';
import { decodeComStmtReset, encodeComStmtReset } from './com-stmt-reset.js';
import { decodeComStmtSendLongData, encodeComStmtSendLongData } from './com-stmt-send-long-data.js';
import { encodeBinaryValue } from './binary-value.js';
import { ProtocolError } from './protocol-error.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors, hex } from './framing.test-util.js';
import { m2Client, m2Packets, m2Payload } from './mysql2.test-util.js';

const P41 = (Capability.Protocol41 | Capability.SecureConnection | Capability.PluginAuth | Capability.ConnectAttrs) >>> 0;
const ATTRS = (P41 | Capability.QueryAttributes) >>> 0;

describe('COM_QUERY', () => {
  it('is the text after the command byte', () => {
    const q = decodeSplitEverywhere(encodeComQuery('SELECT ü', P41), (p) => decodeComQuery(p, P41));
    expect(q.query).toBe('SELECT ü');
    expect(q.attributes).toEqual([]);
    expect(decodeComQuery(m2Payload(new m2Packets.Query('SELECT 1', 45).toPacket()), P41).query).toBe('SELECT 1');
  });

  it('reads the query-attributes block when CLIENT_QUERY_ATTRIBUTES was negotiated', () => {
    const payload = encodeComQuery('SELECT mysql_query_attribute_string(?)', ATTRS, [
      { type: ColumnType.VarString, name: 'trace', value: 'abc' },
      { type: ColumnType.LongLong, unsigned: true, name: 'n', value: 18446744073709551615n },
      { type: ColumnType.Null, name: 'z', value: null },
    ]);
    const q = decodeSplitEverywhere(payload, (p) => decodeComQuery(p, ATTRS));
    expect(q.query).toBe('SELECT mysql_query_attribute_string(?)');
    expect(q.attributes.map((a) => [a.name, a.type, a.unsigned, parameterValue(a)])).toEqual([
      ['trace', ColumnType.VarString, false, Buffer.from('abc')],
      ['n', ColumnType.LongLong, true, 18446744073709551615n],
      ['z', ColumnType.Null, false, null],
    ]);
    // no attributes: count 0, one parameter set
    expect(encodeComQuery('x', ATTRS)).toEqual(hex('03 00 01 78'));
    expect(decodeComQuery(hex('03 00 01 78'), ATTRS).query).toBe('x');
  });

  it('matches mysql2 with query attributes', () => {
    const payload = m2Payload(new m2Packets.Query('SELECT 2', 45, { trace_id: 'abc', n: 5 }, m2Client.CLIENT_QUERY_ATTRIBUTES).toPacket());
    const q = decodeComQuery(payload, ATTRS);
    expect(q.query).toBe('SELECT 2');
    expect(q.attributes.map((a) => [a.name, parameterValue(a)])).toEqual([
      ['trace_id', Buffer.from('abc')],
      ['n', 5],
    ]);
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors((p) => decodeComQuery(p, ATTRS), [Command.Query]);
    expectOnlyProtocolErrors((p) => decodeComQuery(p, P41));
  });
});

describe('COM_STMT_EXECUTE', () => {
  const params: BoundParameterInit[] = [
    { type: ColumnType.Long, value: -5 },
    { type: ColumnType.VarString, value: 'héllo' },
    { type: ColumnType.Double, value: 1.5 },
    { type: ColumnType.Null, value: null },
    { type: ColumnType.DateTime, value: { year: 2024, month: 2, day: 29, hour: 13, minute: 4, second: 5, microsecond: 6 } },
    { type: ColumnType.Tiny, unsigned: true, value: 200 },
    { type: ColumnType.Time, value: { negative: true, days: 1, hours: 2, minutes: 3, seconds: 4, microseconds: 0 } },
    { type: ColumnType.NewDecimal, value: '-12.50' },
    { type: ColumnType.Blob, value: Buffer.alloc(300, 9) },
  ];

  it('decodes statement id, flags, null bitmap, types and values, at every split offset', () => {
    const payload = encodeComStmtExecute({ statementId: 7, flags: CursorType.ReadOnly, parameters: params }, P41);
    const e = decodeSplitEverywhere(payload, (p) => decodeComStmtExecute(p, { paramCount: params.length, capabilities: P41 }));
    expect(e.statementId).toBe(7);
    expect(e.flags).toBe(CursorType.ReadOnly);
    expect(e.iterationCount).toBe(1);
    expect(e.newParamsBound).toBe(true);
    expect(e.parameters.map(parameterValue)).toEqual([
      -5,
      Buffer.from('héllo'),
      1.5,
      null,
      { year: 2024, month: 2, day: 29, hour: 13, minute: 4, second: 5, microsecond: 6 },
      200,
      { negative: true, days: 1, hours: 2, minutes: 3, seconds: 4, microseconds: 0 },
      Buffer.from('-12.50'),
      Buffer.alloc(300, 9),
    ]);
    expect(e.parameters.map((p) => p.name)).toEqual(params.map(() => null));
  });

  it('needs the earlier types when the packet does not rebind them, and skips long-data values', () => {
    const first = decodeComStmtExecute(encodeComStmtExecute({ statementId: 1, parameters: params.slice(0, 2) }, P41), { paramCount: 2, capabilities: P41 });
    const again = encodeComStmtExecute({ statementId: 1, parameters: params.slice(0, 2), newParamsBound: false }, P41);
    expect(() => decodeComStmtExecute(again, { paramCount: 2, capabilities: P41 })).toThrow(ProtocolError);
    const e = decodeComStmtExecute(again, { paramCount: 2, capabilities: P41, previousTypes: first.parameters });
    expect(e.newParamsBound).toBe(false);
    expect(e.parameters.map(parameterValue)).toEqual([-5, Buffer.from('héllo')]);

    const withLong = encodeComStmtExecute({ statementId: 1, parameters: [params[0], { type: ColumnType.Blob, value: Buffer.from('x'), longData: true }] }, P41);
    const l = decodeComStmtExecute(withLong, { paramCount: 2, capabilities: P41, longDataParams: new Set([1]) });
    expect(l.parameters[1]).toMatchObject({ longData: true, value: null });
  });

  it('with CLIENT_QUERY_ATTRIBUTES reads parameter_count and names', () => {
    const payload = encodeComStmtExecute({ statementId: 3, parameters: [{ type: ColumnType.Long, value: 1 }, { type: ColumnType.VarString, name: 'attr', value: 'v' }] }, ATTRS);
    const e = decodeComStmtExecute(payload, { paramCount: 1, capabilities: ATTRS });
    expect(e.flags & CursorType.ParameterCountAvailable).toBe(CursorType.ParameterCountAvailable);
    expect(e.parameters.map((p) => [p.name, parameterValue(p)])).toEqual([
      ['', 1],
      ['attr', Buffer.from('v')],
    ]);
    // no parameters, no attributes: nothing after the iteration count
    expect(decodeComStmtExecute(encodeComStmtExecute({ statementId: 3, parameters: [] }, ATTRS), { paramCount: 0, capabilities: ATTRS }).parameters).toEqual([]);
  });

  it('decodes what mysql2 sends, with and without query attributes', () => {
    const d = new Date(2020, 0, 2, 3, 4, 5, 6);
    const plain = m2Payload(new m2Packets.Execute(9, [42, 'str', null, true, Buffer.from([1, 2]), d], 45, 'local').toPacket());
    const e = decodeComStmtExecute(plain, { paramCount: 6, capabilities: P41 });
    expect(e.statementId).toBe(9);
    expect(e.parameters.map((p) => p.type)).toEqual([ColumnType.Double, ColumnType.VarString, ColumnType.Null, ColumnType.Tiny, ColumnType.Blob, ColumnType.DateTime]);
    expect(e.parameters.map(parameterValue).slice(0, 5)).toEqual([42, Buffer.from('str'), null, 1, Buffer.from([1, 2])]);
    expect(parameterValue(e.parameters[5])).toEqual({ year: 2020, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 6000 });

    const attrs = m2Payload(new m2Packets.Execute(9, [1], 45, 'local', { who: 'me' }, m2Client.CLIENT_QUERY_ATTRIBUTES).toPacket());
    const a = decodeComStmtExecute(attrs, { paramCount: 1, capabilities: ATTRS });
    expect(a.parameters.map((p) => [p.name, parameterValue(p)])).toEqual([
      ['', 1],
      ['who', Buffer.from('me')],
    ]);
    const none = m2Payload(new m2Packets.Execute(9, [], 45, 'local', {}, m2Client.CLIENT_QUERY_ATTRIBUTES).toPacket());
    expect(decodeComStmtExecute(none, { paramCount: 0, capabilities: ATTRS }).parameters).toEqual([]);
  });

  it('refuses trailing bytes and bad flags', () => {
    const payload = encodeComStmtExecute({ statementId: 1, parameters: [params[0]] }, P41);
    expect(() => decodeComStmtExecute(Buffer.concat([payload, Buffer.from([0])]), { paramCount: 1, capabilities: P41 })).toThrow(ProtocolError);
    const bad = Buffer.from(payload);
    bad[11] = 2; // new-params-bound flag
    expect(() => decodeComStmtExecute(bad, { paramCount: 1, capabilities: P41 })).toThrow(ProtocolError);
  });

  it('property: round-trips random integer and string parameters', () => {
    const param = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => ({ type: ColumnType.Long, value: v as number | string | bigint | null })),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v) => ({ type: ColumnType.LongLong, value: v as number | string | bigint | null })),
      fc.string().map((v) => ({ type: ColumnType.VarString, value: v as number | string | bigint | null })),
      fc.constant({ type: ColumnType.VarString, value: null as number | string | bigint | null }),
    );
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.array(param, { maxLength: 20 }), fc.boolean(), (statementId, ps, attrs) => {
        const caps = attrs ? ATTRS : P41;
        const e = decodeComStmtExecute(encodeComStmtExecute({ statementId, parameters: ps }, caps), { paramCount: ps.length, capabilities: caps });
        expect(e.statementId).toBe(statementId);
        expect(e.parameters.map((p) => (p.value === null ? null : p.type === ColumnType.VarString ? (decodeBinaryValue(p.value, p.type) as Buffer).toString() : parameterValue(p)))).toEqual(ps.map((p) => p.value));
      }),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    for (const paramCount of [0, 1, 3, 12]) {
      expectOnlyProtocolErrors((p) => decodeComStmtExecute(p, { paramCount, capabilities: P41 }), [Command.StmtExecute], 500);
      expectOnlyProtocolErrors((p) => decodeComStmtExecute(p, { paramCount, capabilities: ATTRS }), [Command.StmtExecute, 1, 0, 0, 0, 8, 1, 0, 0, 0], 500);
    }
  });
});

describe('COM_STMT_BULK_EXECUTE (MariaDB)', () => {
  it('decodes rows of indicator + value, with types sent or remembered', () => {
    const types = [
      { type: ColumnType.Long, unsigned: false },
      { type: ColumnType.VarString, unsigned: false },
    ];
    const rows = [
      [
        { indicator: BulkIndicator.None, value: encodeBinaryValue(ColumnType.Long, 1) },
        { indicator: BulkIndicator.None, value: encodeBinaryValue(ColumnType.VarString, 'a') },
      ],
      [
        { indicator: BulkIndicator.Null, value: null },
        { indicator: BulkIndicator.Default, value: null },
      ],
    ];
    const payload = encodeComStmtBulkExecute({ statementId: 4, flags: BulkFlag.SendTypesToServer, types, rows });
    const b = decodeSplitEverywhere(payload, (p) => decodeComStmtBulkExecute(p, 2));
    expect(b).toEqual({ statementId: 4, flags: BulkFlag.SendTypesToServer, types, rows });
    const noTypes = encodeComStmtBulkExecute({ statementId: 4, flags: 0, types, rows });
    expect(() => decodeComStmtBulkExecute(noTypes, 2)).toThrow(ProtocolError);
    expect(decodeComStmtBulkExecute(noTypes, 2, types).rows).toEqual(rows);
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors((p) => decodeComStmtBulkExecute(p, 2), [Command.StmtBulkExecute, 1, 0, 0, 0, 0x80, 0]);
    expectOnlyProtocolErrors((p) => decodeComStmtBulkExecute(p, 0));
  });
});

describe('COM_STMT_PREPARE and its OK', () => {
  it('round-trips the request and the COM_STMT_PREPARE_OK', () => {
    expect(decodeSplitEverywhere(encodeComStmtPrepare('SELECT ?'), decodeComStmtPrepare).toString()).toBe('SELECT ?');
    const ok = encodeComStmtPrepareOk({ statementId: 12, numColumns: 3, numParams: 2, warnings: 1 }, P41);
    expect(ok.length).toBe(12);
    expect(decodeSplitEverywhere(ok, (p) => decodeComStmtPrepareOk(p, P41))).toEqual({ statementId: 12, numColumns: 3, numParams: 2, warnings: 1, metadataFollows: true });
    const opt = (P41 | Capability.OptionalResultsetMetadata) >>> 0;
    expect(decodeComStmtPrepareOk(encodeComStmtPrepareOk({ statementId: 1, numColumns: 1, numParams: 0, warnings: 0, metadataFollows: false }, opt), opt).metadataFollows).toBe(false);
    const theirs = new m2Packets.PreparedStatementHeader(m2PacketOf(ok));
    expect([theirs.id, theirs.fieldCount, theirs.parameterCount]).toEqual([12, 3, 2]);
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors(decodeComStmtPrepare);
    expectOnlyProtocolErrors((p) => decodeComStmtPrepareOk(p, P41 | Capability.OptionalResultsetMetadata), [0]);
  });
});

function m2PacketOf(payload: Buffer) {
  const framed = Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, 1]), payload]);
  return new m2Packets.Packet(1, framed, 0, framed.length);
}

describe('COM_CHANGE_USER', () => {
  it('round-trips, at every split offset', () => {
    const init = { username: 'agent', authResponse: Buffer.alloc(20, 3), database: 'db', characterSet: 45, authPluginName: 'mysql_native_password', connectAttributes: new Map([['a', 'b']]) };
    const c = decodeSplitEverywhere(encodeComChangeUser(init, P41), (p) => decodeComChangeUser(p, P41));
    expect(c).toEqual(init);
    const old = decodeComChangeUser(hex('11', Buffer.from('u\0pw\0db\0').toString('hex')), 0);
    expect(old).toEqual({ username: 'u', authResponse: Buffer.from('pw'), database: 'db', characterSet: null, authPluginName: null, connectAttributes: null });
  });

  it('decodes what mysql2 sends', () => {
    const flags = m2Client.PROTOCOL_41 | m2Client.SECURE_CONNECTION | m2Client.PLUGIN_AUTH | m2Client.CONNECT_ATTRS;
    const pkt = new m2Packets.ChangeUser({ flags, user: 'bob', database: 'd', password: 'pw', authPluginData1: Buffer.alloc(8, 1), authPluginData2: Buffer.alloc(12, 2), charsetNumber: 33, connectAttributes: { x: 'y' } }).toPacket();
    const c = decodeComChangeUser(m2Payload(pkt), flags >>> 0);
    expect(c).toMatchObject({ username: 'bob', database: 'd', characterSet: 33, authPluginName: 'mysql_native_password' });
    expect(c.authResponse.length).toBe(20);
    expect(Object.fromEntries(c.connectAttributes!)).toEqual({ x: 'y' });
  });

  it('property: random bytes throw only ProtocolError', () => expectOnlyProtocolErrors((p) => decodeComChangeUser(p, P41), [Command.ChangeUser]));
});

describe('small commands', () => {
  it('round-trip, at every split offset', () => {
    expect(decodeSplitEverywhere(encodeComInitDb('shöp'), decodeComInitDb)).toBe('shöp');
    expect(decodeSplitEverywhere(encodeComFieldList({ table: 't', wildcard: 'a%' }), decodeComFieldList)).toEqual({ table: 't', wildcard: 'a%' });
    expect(decodeSplitEverywhere(encodeComStmtSendLongData({ statementId: 5, paramId: 1, data: Buffer.from('chunk') }), decodeComStmtSendLongData)).toEqual({ statementId: 5, paramId: 1, data: Buffer.from('chunk') });
    expect(decodeSplitEverywhere(encodeComStmtClose(0xffffffff), decodeComStmtClose)).toBe(0xffffffff);
    expect(decodeSplitEverywhere(encodeComStmtReset(8), decodeComStmtReset)).toBe(8);
    expect(decodeSplitEverywhere(encodeComStmtFetch({ statementId: 2, numRows: 100 }), decodeComStmtFetch)).toEqual({ statementId: 2, numRows: 100 });
    expect(decodeSplitEverywhere(encodeComSetOption(SetOption.MultiStatementsOff), decodeComSetOption)).toBe(1);
    expect(decodeSplitEverywhere(encodeComProcessKill(1234), decodeComProcessKill)).toBe(1234);
    expect(encodeSimpleCommand(Command.Ping)).toEqual(Buffer.from([0x0e]));
  });

  it('match the bytes mysql2 sends', () => {
    expect(decodeComStmtClose(m2Payload(new m2Packets.CloseStatement(77).toPacket()))).toBe(77);
    expect(m2Payload(new m2Packets.ResetConnection().toPacket())).toEqual(encodeSimpleCommand(Command.ResetConnection));
  });

  it('commandOf, commandName, commandHasResponse', () => {
    expect(commandOf(encodeComStmtReset(1))).toBe(Command.StmtReset);
    expect(() => commandOf(Buffer.alloc(0))).toThrow(ProtocolError);
    expect(commandName(Command.StmtExecute)).toBe('COM_STMT_EXECUTE');
    expect(commandName(0x99)).toBe('COM_UNKNOWN_0x99');
    expect([Command.Quit, Command.StmtClose, Command.StmtSendLongData, Command.Query].map(commandHasResponse)).toEqual([false, false, false, true]);
  });

  it('property: random bytes throw only ProtocolError', () => {
    for (const d of [decodeComInitDb, decodeComFieldList, decodeComStmtSendLongData, decodeComStmtClose, decodeComStmtReset, decodeComStmtFetch, decodeComSetOption, decodeComProcessKill]) {
      expectOnlyProtocolErrors(d, [], 300);
    }
    expectOnlyProtocolErrors(decodeComFieldList, [Command.FieldList], 300);
  });
});
