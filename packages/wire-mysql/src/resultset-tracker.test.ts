import fc from 'fast-check';
import { Capability, MariadbCapability, type Negotiated } from './capabilities.js';
import { Command, ResponseHeader, ServerStatus } from './codes.js';
import { ColumnType } from './column-type.js';
import { encodeAuthMoreData } from './auth-more-data.js';
import { encodeAuthSwitchRequest } from './auth-switch-request.js';
import { encodeBinaryRow } from './binary-resultset-row.js';
import { encodeColumnCount } from './column-count.js';
import { encodeColumnDefinition41, type ColumnDefinition41 } from './column-definition41.js';
import { encodeComStmtPrepareOk } from './com-stmt-prepare.js';
import { encodeEofPacket } from './eof-packet.js';
import { encodeErrPacket, encodeProgressReport } from './err-packet.js';
import { encodeLocalInfileRequest } from './local-infile-request.js';
import { encodeOkPacket } from './ok-packet.js';
import { ProtocolError } from './protocol-error.js';
import { PacketKind, ResultsetTracker, classifyAuthPacket } from './resultset-tracker.js';
import { encodeTextRow } from './text-resultset-row.js';

const CLASSIC: Negotiated = { capabilities: (Capability.Protocol41 | Capability.Transactions | Capability.MultiResults) >>> 0, mariadbCapabilities: 0 };
const DEPRECATE: Negotiated = { capabilities: (CLASSIC.capabilities | Capability.DeprecateEof | Capability.SessionTrack) >>> 0, mariadbCapabilities: 0 };

const def = (name: string): Buffer =>
  encodeColumnDefinition41({ catalog: 'def', schema: 's', table: 't', orgTable: 't', name, orgName: name, characterSet: 45, columnLength: 10, type: ColumnType.VarString, flags: 0, decimals: 0 } as ColumnDefinition41);
const ok = (n: Negotiated, status = ServerStatus.Autocommit) => encodeOkPacket({ statusFlags: status }, n.capabilities);
/** the terminator after rows: EOF, or OK with a 0xFE header under DEPRECATE_EOF */
const end = (n: Negotiated, status = ServerStatus.Autocommit) =>
  (n.capabilities & Capability.DeprecateEof) !== 0 ? encodeOkPacket({ header: ResponseHeader.Eof, statusFlags: status }, n.capabilities) : encodeEofPacket({ warnings: 0, statusFlags: status });
const err = encodeErrPacket({ errorCode: 1146, sqlState: '42S02', message: "Table 'x' doesn't exist" });

function run(n: Negotiated, command: number, packets: Buffer[]): { kinds: PacketKind[]; tracker: ResultsetTracker; doneAt: number } {
  const t = new ResultsetTracker(n);
  t.begin(command);
  const kinds: PacketKind[] = [];
  let doneAt = t.done ? -1 : Infinity;
  packets.forEach((p, i) => {
    expect(t.done).toBe(false);
    kinds.push(t.next(p));
    if (t.done && doneAt === Infinity) doneAt = i;
  });
  return { kinds, tracker: t, doneAt };
}

/** A text resultset as the server sends it. */
function resultset(n: Negotiated, cols: number, rows: number, status = ServerStatus.Autocommit): Buffer[] {
  const out = [encodeColumnCount({ count: cols }, n)];
  for (let i = 0; i < cols; i++) out.push(def('c' + i));
  if ((n.capabilities & Capability.DeprecateEof) === 0) out.push(encodeEofPacket({ warnings: 0, statusFlags: status }));
  for (let r = 0; r < rows; r++) out.push(encodeTextRow(Array.from({ length: cols }, (_, i) => (i === 0 ? null : `r${r}c${i}`))));
  out.push(end(n, status));
  return out;
}

function resultsetKinds(n: Negotiated, cols: number, rows: number): PacketKind[] {
  return [PacketKind.ColumnCount, ...Array(cols).fill(PacketKind.ColumnDefinition), ...((n.capabilities & Capability.DeprecateEof) === 0 ? [PacketKind.Eof] : []), ...Array(rows).fill(PacketKind.Row), PacketKind.Eof];
}

describe('ResultsetTracker', () => {
  for (const [label, n] of [
    ['classic EOF', CLASSIC],
    ['CLIENT_DEPRECATE_EOF', DEPRECATE],
  ] as const) {
    describe(label, () => {
      it('COM_QUERY: one resultset, done after the terminator', () => {
        const { kinds, tracker, doneAt } = run(n, Command.Query, resultset(n, 2, 3));
        expect(kinds).toEqual(resultsetKinds(n, 2, 3));
        expect(doneAt).toBe(kinds.length - 1);
        expect(tracker.endedResultset).toBe(true);
        expect(tracker.columnCount).toBe(2);
        expect(tracker.binaryRows).toBe(false);
      });

      it('multi-results: resultsets and OKs chained by SERVER_MORE_RESULTS_EXISTS', () => {
        const more = ServerStatus.MoreResultsExists | ServerStatus.Autocommit;
        const packets = [...resultset(n, 1, 2, more), ok(n, more), ...resultset(n, 3, 0, more), ok(n)];
        const { kinds, tracker, doneAt } = run(n, Command.Query, packets);
        expect(kinds).toEqual([...resultsetKinds(n, 1, 2), PacketKind.Ok, ...resultsetKinds(n, 3, 0), PacketKind.Ok]);
        expect(doneAt).toBe(packets.length - 1);
        expect(tracker.resultIndex).toBe(3);
      });

      it('an ERR ends the response, even mid-rows or after MORE_RESULTS', () => {
        const rs = resultset(n, 2, 2);
        rs.splice(rs.length - 1, 1, err);
        expect(run(n, Command.Query, rs).doneAt).toBe(rs.length - 1);
        const more = ServerStatus.MoreResultsExists;
        const r2 = run(n, Command.Query, [ok(n, more), err]);
        expect(r2.kinds).toEqual([PacketKind.Ok, PacketKind.Err]);
        expect(r2.doneAt).toBe(1);
      });

      it('LOCAL INFILE: the request, then the OK after the client sent its file', () => {
        const r = run(n, Command.Query, [encodeLocalInfileRequest('/etc/passwd'), ok(n)]);
        expect(r.kinds).toEqual([PacketKind.LocalInfileRequest, PacketKind.Ok]);
        expect(r.doneAt).toBe(1);
      });

      it('COM_STMT_EXECUTE: binary rows; with a cursor, done after the metadata', () => {
        const cols = [{ type: ColumnType.Long, flags: 0 }];
        const meta = [encodeColumnCount({ count: 1 }, n), def('id'), ...((n.capabilities & Capability.DeprecateEof) === 0 ? [encodeEofPacket({ warnings: 0, statusFlags: 0 })] : [])];
        const plain = run(n, Command.StmtExecute, [...meta, encodeBinaryRow(cols, [1]), encodeBinaryRow(cols, [null]), end(n)]);
        expect(plain.kinds.slice(-3)).toEqual([PacketKind.Row, PacketKind.Row, PacketKind.Eof]);
        expect(plain.tracker.binaryRows).toBe(true);
        expect(plain.doneAt).toBe(plain.kinds.length - 1);

        const cursorMeta = [...meta];
        if ((n.capabilities & Capability.DeprecateEof) === 0) cursorMeta[cursorMeta.length - 1] = encodeEofPacket({ warnings: 0, statusFlags: ServerStatus.CursorExists });
        else cursorMeta.push(end(n, ServerStatus.CursorExists));
        const cur = run(n, Command.StmtExecute, cursorMeta);
        expect(cur.doneAt).toBe(cursorMeta.length - 1);
        expect(cur.tracker.endedResultset).toBe(true);

        const fetch = run(n, Command.StmtFetch, [encodeBinaryRow(cols, [5]), end(n, ServerStatus.CursorExists | ServerStatus.LastRowSent)]);
        expect(fetch.kinds).toEqual([PacketKind.Row, PacketKind.Eof]);
        expect(fetch.doneAt).toBe(1);
      });

      it('COM_STMT_PREPARE: OK, parameter definitions, column definitions', () => {
        const classic = (n.capabilities & Capability.DeprecateEof) === 0;
        const eof = encodeEofPacket({ warnings: 0, statusFlags: 0 });
        const packets = [encodeComStmtPrepareOk({ statementId: 4, numParams: 2, numColumns: 1, warnings: 0 }, n.capabilities), def('?'), def('?'), ...(classic ? [eof] : []), def('x'), ...(classic ? [eof] : [])];
        const r = run(n, Command.StmtPrepare, packets);
        expect(r.kinds).toEqual([PacketKind.PrepareOk, PacketKind.ParamDefinition, PacketKind.ParamDefinition, ...(classic ? [PacketKind.Eof] : []), PacketKind.ColumnDefinition, ...(classic ? [PacketKind.Eof] : [])]);
        expect(r.doneAt).toBe(packets.length - 1);
        expect(r.tracker.prepareOk).toEqual({ statementId: 4, numParams: 2, numColumns: 1, warnings: 0, metadataFollows: true });
        expect(run(n, Command.StmtPrepare, [encodeComStmtPrepareOk({ statementId: 5, numParams: 0, numColumns: 0, warnings: 0 }, n.capabilities)]).doneAt).toBe(0);
        expect(run(n, Command.StmtPrepare, [err]).kinds).toEqual([PacketKind.Err]);
      });

      it('COM_FIELD_LIST: definitions until the terminator', () => {
        const r = run(n, Command.FieldList, [def('a'), def('b'), end(n)]);
        expect(r.kinds).toEqual([PacketKind.ColumnDefinition, PacketKind.ColumnDefinition, PacketKind.Eof]);
        expect(r.doneAt).toBe(2);
      });

      it('one-packet commands, commands without a response, and COM_STATISTICS', () => {
        expect(run(n, Command.Ping, [ok(n)]).kinds).toEqual([PacketKind.Ok]);
        expect(run(n, Command.SetOption, [end(n)]).kinds).toEqual([PacketKind.Eof]);
        expect(run(n, Command.ResetConnection, [err]).kinds).toEqual([PacketKind.Err]);
        expect(run(n, Command.Statistics, [Buffer.from('Uptime: 5  Threads: 1')]).kinds).toEqual([PacketKind.Statistics]);
        for (const c of [Command.Quit, Command.StmtClose, Command.StmtSendLongData]) {
          const t = new ResultsetTracker(n);
          t.begin(c);
          expect(t.done).toBe(true);
          expect(() => t.next(ok(n))).toThrow(ProtocolError);
        }
      });

      it('COM_CHANGE_USER: auth switch and more data until OK or ERR', () => {
        const r = run(n, Command.ChangeUser, [encodeAuthSwitchRequest({ authPluginName: 'mysql_native_password', authPluginData: Buffer.alloc(21, 1) }), encodeAuthMoreData(Buffer.from([3])), ok(n)]);
        expect(r.kinds).toEqual([PacketKind.AuthSwitchRequest, PacketKind.AuthMoreData, PacketKind.Ok]);
        expect(r.doneAt).toBe(2);
      });
    });
  }

  it('classifies connection-phase packets', () => {
    expect(classifyAuthPacket(ok(CLASSIC))).toBe(PacketKind.Ok);
    expect(classifyAuthPacket(err)).toBe(PacketKind.Err);
    expect(classifyAuthPacket(Buffer.from([0xfe]))).toBe(PacketKind.AuthSwitchRequest);
    expect(classifyAuthPacket(encodeAuthMoreData(Buffer.from([4])))).toBe(PacketKind.AuthMoreData);
    expect(() => classifyAuthPacket(Buffer.alloc(0))).toThrow(ProtocolError);
    expect(() => classifyAuthPacket(Buffer.from([0x0a]))).toThrow(ProtocolError);
  });

  it('a text row starting with 0xFE (a field of 16 MiB or more) is a row, not a terminator', () => {
    const t = new ResultsetTracker(DEPRECATE);
    t.begin(Command.Query);
    t.next(encodeColumnCount({ count: 1 }, DEPRECATE));
    t.next(def('blob'));
    const firstPiece = Buffer.alloc(0xffffff);
    firstPiece[0] = 0xfe;
    expect(t.next(firstPiece)).toBe(PacketKind.Row);
    expect(t.done).toBe(false);
    const c = new ResultsetTracker(CLASSIC);
    c.begin(Command.Query);
    c.next(encodeColumnCount({ count: 1 }, CLASSIC));
    c.next(def('blob'));
    c.next(encodeEofPacket({ warnings: 0, statusFlags: 0 }));
    expect(c.next(Buffer.concat([Buffer.from([0xfe]), Buffer.alloc(8)]))).toBe(PacketKind.Row);
  });

  it('skipped metadata (MARIADB_CLIENT_CACHE_METADATA): no definitions follow', () => {
    const n = { capabilities: DEPRECATE.capabilities, mariadbCapabilities: MariadbCapability.CacheMetadata };
    const cols = [{ type: ColumnType.Long, flags: 0 }];
    const r = run(n, Command.StmtExecute, [encodeColumnCount({ count: 1, metadataFollows: false }, n), encodeBinaryRow(cols, [1]), end(n)]);
    expect(r.kinds).toEqual([PacketKind.ColumnCount, PacketKind.Row, PacketKind.Eof]);
    expect(r.tracker.metadataFollows).toBe(false);
  });

  it('MariaDB progress reports do not end the command when negotiated', () => {
    const n = { capabilities: CLASSIC.capabilities, mariadbCapabilities: MariadbCapability.Progress };
    const progress = encodeProgressReport({ stage: 1, maxStage: 1, progress: 500, info: 'alter' });
    expect(run(n, Command.Query, [progress, progress, ok(n)]).kinds).toEqual([PacketKind.Progress, PacketKind.Progress, PacketKind.Ok]);
    expect(run(CLASSIC, Command.Query, [progress]).kinds).toEqual([PacketKind.Err]);
  });

  it('property: any chain of results is classified, and done exactly at its last packet', () => {
    const result = fc.oneof(fc.record({ kind: fc.constant('ok' as const) }), fc.record({ kind: fc.constant('rs' as const), cols: fc.integer({ min: 1, max: 4 }), rows: fc.nat(4) }));
    fc.assert(
      fc.property(fc.boolean(), fc.array(result, { minLength: 1, maxLength: 5 }), fc.boolean(), (deprecate, results, endWithErr) => {
        const n = deprecate ? DEPRECATE : CLASSIC;
        const packets: Buffer[] = [];
        const kinds: PacketKind[] = [];
        results.forEach((r, i) => {
          const last = i === results.length - 1 && !endWithErr;
          const status = last ? ServerStatus.Autocommit : ServerStatus.Autocommit | ServerStatus.MoreResultsExists;
          if (r.kind === 'ok') {
            packets.push(ok(n, status));
            kinds.push(PacketKind.Ok);
          } else {
            packets.push(...resultset(n, r.cols, r.rows, status));
            kinds.push(...resultsetKinds(n, r.cols, r.rows));
          }
        });
        if (endWithErr) {
          packets.push(err);
          kinds.push(PacketKind.Err);
        }
        const got = run(n, Command.Query, packets);
        expect(got.kinds).toEqual(kinds);
        expect(got.doneAt).toBe(packets.length - 1);
      }),
    );
  });

  it('property: random packets give kinds or ProtocolErrors only', () => {
    fc.assert(
      fc.property(fc.constantFrom(Command.Query, Command.StmtExecute, Command.StmtPrepare, Command.FieldList, Command.Ping, Command.ChangeUser, Command.StmtFetch), fc.boolean(), fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 12 }), (cmd, deprecate, packets) => {
        const t = new ResultsetTracker(deprecate ? DEPRECATE : CLASSIC);
        t.begin(cmd);
        try {
          for (const p of packets) t.next(Buffer.from(p));
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
    );
  });
});
