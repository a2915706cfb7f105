import fc from 'fast-check';
import { Capability, MariadbCapability } from './capabilities.js';
import { ServerStatus } from './codes.js';
import { decodeHandshakeV10, displayServerVersion, encodeHandshakeV10, isMariaDbVersion, type HandshakeV10Init } from './handshake-v10.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors } from './framing.test-util.js';
import { m2Packet, m2Packets, m2Payload } from './mysql2.test-util.js';

const scramble = Buffer.from('0123456789abcdefghij');
const SERVER_CAPS =
  (Capability.LongPassword |
    Capability.ConnectWithDb |
    Capability.Protocol41 |
    Capability.Transactions |
    Capability.SecureConnection |
    Capability.MultiStatements |
    Capability.MultiResults |
    Capability.PsMultiResults |
    Capability.PluginAuth |
    Capability.ConnectAttrs |
    Capability.PluginAuthLenencClientData |
    Capability.SessionTrack |
    Capability.DeprecateEof |
    Capability.Ssl) >>>
  0;

const base: HandshakeV10Init = {
  serverVersion: '8.0.36-sqlwarden',
  connectionId: 42,
  authPluginData: scramble,
  capabilities: SERVER_CAPS,
  characterSet: 255,
  statusFlags: ServerStatus.Autocommit,
  authPluginName: 'caching_sha2_password',
};

describe('HandshakeV10', () => {
  it('encodes and decodes, at every split offset', () => {
    const payload = encodeHandshakeV10(base);
    const h = decodeSplitEverywhere(payload, decodeHandshakeV10);
    expect(h).toEqual({ protocolVersion: 10, ...base, authPluginData: scramble, mariadbCapabilities: 0 });
    // 1 + version + NUL + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 13 + plugin + NUL
    expect(payload.length).toBe(1 + 17 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 13 + 22);
    expect(payload[1 + 17 + 4 + 8 + 1 + 2 + 1 + 2 + 2]).toBe(21); // auth_plugin_data_len
  });

  it("carries MariaDB's extended capabilities in the reserved bytes when CLIENT_MYSQL is clear", () => {
    const caps = (SERVER_CAPS & ~Capability.ClientMysql) >>> 0;
    const ext = MariadbCapability.Progress | MariadbCapability.StmtBulkOperations | MariadbCapability.ExtendedMetadata;
    const h = decodeHandshakeV10(encodeHandshakeV10({ ...base, capabilities: caps, mariadbCapabilities: ext, serverVersion: '5.5.5-10.11.6-MariaDB' }));
    expect(h.mariadbCapabilities).toBe(ext);
    expect(h.capabilities).toBe(caps);
    expect(isMariaDbVersion(h.serverVersion)).toBe(true);
    expect(displayServerVersion(h.serverVersion)).toBe('10.11.6-MariaDB');
    // with CLIENT_MYSQL set the bytes are reserved zeros and ignored
    expect(decodeHandshakeV10(encodeHandshakeV10({ ...base, mariadbCapabilities: ext })).mariadbCapabilities).toBe(0);
  });

  it('matches mysql2 both ways', () => {
    const ours = decodeHandshakeV10(
      m2Payload(
        new m2Packets.Handshake({
          protocolVersion: 10,
          serverVersion: '5.7.0-m2',
          connectionId: 77,
          authPluginData1: scramble.subarray(0, 8),
          authPluginData2: scramble.subarray(8),
          capabilityFlags: SERVER_CAPS,
          characterSet: 33,
          statusFlags: 2,
        }).toPacket(0),
      ),
    );
    expect(ours).toMatchObject({ serverVersion: '5.7.0-m2', connectionId: 77, authPluginData: scramble, characterSet: 33, authPluginName: 'mysql_native_password' });
    const theirs = m2Packets.Handshake.fromPacket(m2Packet(encodeHandshakeV10(base)));
    expect(theirs.serverVersion).toBe(base.serverVersion);
    expect(theirs.connectionId).toBe(42);
    expect(Buffer.concat([theirs.authPluginData1, theirs.authPluginData2]).subarray(0, 20)).toEqual(scramble);
    expect(theirs.capabilityFlags >>> 0).toBe(SERVER_CAPS);
    expect(theirs.authPluginName).toBe('caching_sha2_password');
  });

  it('decodes the short pre-4.1 form and refuses error packets and other versions', () => {
    const short = Buffer.concat([Buffer.from([10]), Buffer.from('4.0\0'), Buffer.from([1, 0, 0, 0]), Buffer.from('abcdefgh'), Buffer.from([0, 0, 0])]);
    expect(decodeHandshakeV10(short)).toMatchObject({ serverVersion: '4.0', connectionId: 1, authPluginData: Buffer.from('abcdefgh'), capabilities: 0 });
    expect(() => decodeHandshakeV10(Buffer.from([0xff, 0x10, 0x04]))).toThrow('error packet');
    expect(() => decodeHandshakeV10(Buffer.from([9]))).toThrow('version 9');
  });

  it('property: round-trips', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii' }).filter((s) => !s.includes('\0')),
        fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b.map((x) => x || 1))),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0x3f }),
        fc.nat({ max: 255 }),
        fc.nat({ max: 0xffff }),
        (serverVersion, connectionId, authPluginData, caps, ext, characterSet, statusFlags) => {
          const capabilities = (caps | Capability.SecureConnection | Capability.PluginAuth) >>> 0;
          const init = { serverVersion, connectionId, authPluginData, capabilities, mariadbCapabilities: ext, characterSet, statusFlags, authPluginName: 'mysql_native_password' };
          const h = decodeHandshakeV10(encodeHandshakeV10(init));
          expect(h).toEqual({ protocolVersion: 10, ...init, mariadbCapabilities: (capabilities & 1) === 0 ? ext : 0 });
        },
      ),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors(decodeHandshakeV10);
    expectOnlyProtocolErrors(decodeHandshakeV10, [10, 0x35, 0]);
  });
});
