import fc from 'fast-check';
import { Capability, MariadbCapability, negotiate } from './capabilities.js';
import { decodeHandshakeResponse41, decodeSslRequest, encodeHandshakeResponse41, encodeSslRequest, isSslRequest, type HandshakeResponse41Init } from './handshake-response41.js';
import { ProtocolError } from './protocol-error.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors } from './framing.test-util.js';
import { m2Client, m2Packet, m2Packets, m2Payload } from './mysql2.test-util.js';

const CLIENT_CAPS =
  (Capability.LongPassword |
    Capability.ConnectWithDb |
    Capability.Protocol41 |
    Capability.Transactions |
    Capability.SecureConnection |
    Capability.MultiResults |
    Capability.PluginAuth |
    Capability.ConnectAttrs |
    Capability.PluginAuthLenencClientData |
    Capability.DeprecateEof) >>>
  0;

const base: HandshakeResponse41Init = {
  capabilities: CLIENT_CAPS,
  maxPacketSize: 0x1000000,
  characterSet: 45,
  username: 'agent-7',
  authResponse: Buffer.alloc(32, 0xaa),
  database: 'shop',
  authPluginName: 'caching_sha2_password',
  connectAttributes: new Map([
    ['_client_name', 'libmariadb'],
    ['program_name', 'ünïcode'],
  ]),
};

describe('HandshakeResponse41', () => {
  it('encodes and decodes every field, at every split offset', () => {
    const r = decodeSplitEverywhere(encodeHandshakeResponse41(base), decodeHandshakeResponse41);
    expect(r).toEqual({ ...base, mariadbCapabilities: 0, zstdCompressionLevel: null });
  });

  it('reads the auth response by each of its three layouts', () => {
    const lenenc = decodeHandshakeResponse41(encodeHandshakeResponse41({ ...base, authResponse: Buffer.alloc(300, 1) }));
    expect(lenenc.authResponse.length).toBe(300);
    const secure = (CLIENT_CAPS & ~Capability.PluginAuthLenencClientData) >>> 0;
    expect(decodeHandshakeResponse41(encodeHandshakeResponse41({ ...base, capabilities: secure })).authResponse).toEqual(Buffer.alloc(32, 0xaa));
    expect(() => encodeHandshakeResponse41({ ...base, capabilities: secure, authResponse: Buffer.alloc(256) })).toThrow(RangeError);
    const nul = (secure & ~Capability.SecureConnection) >>> 0;
    expect(decodeHandshakeResponse41(encodeHandshakeResponse41({ ...base, capabilities: nul, authResponse: Buffer.from('pw') })).authResponse.toString()).toBe('pw');
  });

  it('leaves out fields whose capability is off, and tolerates clients stopping early', () => {
    const caps = (CLIENT_CAPS & ~(Capability.ConnectWithDb | Capability.ConnectAttrs)) >>> 0;
    const r = decodeHandshakeResponse41(encodeHandshakeResponse41({ ...base, capabilities: caps }));
    expect(r.database).toBeNull();
    expect(r.connectAttributes).toBeNull();
    expect(r.authPluginName).toBe('caching_sha2_password');
    const noPlugin = encodeHandshakeResponse41({ ...base, capabilities: (CLIENT_CAPS & ~Capability.ConnectAttrs) >>> 0 });
    const cut = noPlugin.subarray(0, noPlugin.length - 'caching_sha2_password'.length - 1);
    expect(decodeHandshakeResponse41(cut).authPluginName).toBeNull();
  });

  it('carries MariaDB extended capabilities and the zstd level', () => {
    const caps = ((CLIENT_CAPS & ~Capability.ClientMysql) | Capability.ZstdCompressionAlgorithm) >>> 0;
    const r = decodeHandshakeResponse41(encodeHandshakeResponse41({ ...base, capabilities: caps, mariadbCapabilities: MariadbCapability.CacheMetadata, zstdCompressionLevel: 7 }));
    expect(r.mariadbCapabilities).toBe(MariadbCapability.CacheMetadata);
    expect(r.zstdCompressionLevel).toBe(7);
  });

  it('matches mysql2 both ways', () => {
    const flags = m2Client.PROTOCOL_41 | m2Client.SECURE_CONNECTION | m2Client.PLUGIN_AUTH | m2Client.CONNECT_WITH_DB | m2Client.CONNECT_ATTRS | m2Client.PLUGIN_AUTH_LENENC_CLIENT_DATA | m2Client.LONG_PASSWORD;
    const pkt = new m2Packets.HandshakeResponse({
      user: 'bob',
      database: 'db1',
      flags,
      charsetNumber: 224,
      authToken: Buffer.from('0123456789abcdefghij'),
      authPluginName: 'mysql_native_password',
      connectAttributes: { _client_name: 'Node-MySQL-2', _pid: '123' },
    }).toPacket();
    const ours = decodeHandshakeResponse41(m2Payload(pkt));
    expect(ours).toMatchObject({ username: 'bob', database: 'db1', characterSet: 224, authPluginName: 'mysql_native_password' });
    expect(ours.authResponse.toString()).toBe('0123456789abcdefghij');
    expect(Object.fromEntries(ours.connectAttributes!)).toEqual({ _client_name: 'Node-MySQL-2', _pid: '123' });

    const theirs = m2Packets.HandshakeResponse.fromPacket(m2Packet(encodeHandshakeResponse41(base)));
    expect(theirs.user).toBe('agent-7');
    expect(theirs.database).toBe('shop');
    expect(theirs.authPluginName).toBe('caching_sha2_password');
    expect(theirs.authToken).toEqual(Buffer.alloc(32, 0xaa));
    expect(theirs.connectAttributes).toEqual({ _client_name: 'libmariadb', program_name: 'ünïcode' });
  });

  it('refuses pre-4.1 clients', () => {
    const b = encodeHandshakeResponse41(base);
    b.writeUInt32LE(0, 0);
    expect(() => decodeHandshakeResponse41(b)).toThrow(ProtocolError);
  });

  it('property: round-trips', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.string().filter((s) => !s.includes('\0')),
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.string().filter((s) => !s.includes('\0')), { nil: null }),
        fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 4 }),
        (caps, username, auth, database, attrs) => {
          const capabilities = (caps | Capability.Protocol41 | Capability.PluginAuthLenencClientData | Capability.ConnectWithDb | Capability.ConnectAttrs | Capability.PluginAuth) >>> 0;
          const init = { ...base, capabilities, username, authResponse: Buffer.from(auth), database: database ?? '', connectAttributes: new Map(attrs), zstdCompressionLevel: (capabilities & Capability.ZstdCompressionAlgorithm) !== 0 ? 3 : null };
          const r = decodeHandshakeResponse41(encodeHandshakeResponse41(init));
          expect(r).toEqual({ ...init, mariadbCapabilities: 0 });
        },
      ),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors(decodeHandshakeResponse41);
    const prefix = [...encodeHandshakeResponse41(base).subarray(0, 32)];
    expectOnlyProtocolErrors(decodeHandshakeResponse41, prefix);
  });
});

describe('SSLRequest', () => {
  it('is the 32-byte prefix with CLIENT_SSL', () => {
    const p = encodeSslRequest({ capabilities: CLIENT_CAPS, maxPacketSize: 1 << 24, characterSet: 45, mariadbCapabilities: 0 });
    expect(p.length).toBe(32);
    expect(isSslRequest(p)).toBe(true);
    expect(isSslRequest(encodeHandshakeResponse41(base))).toBe(false);
    const d = decodeSplitEverywhere(p, decodeSslRequest);
    expect(d.capabilities & Capability.Ssl).toBe(Capability.Ssl);
    const noSsl = Buffer.from(p);
    noSsl.writeUInt32LE(CLIENT_CAPS, 0);
    expect(() => decodeSslRequest(noSsl)).toThrow(ProtocolError);
    expect(() => decodeSslRequest(Buffer.concat([p, Buffer.from([1])]))).toThrow(ProtocolError);
    const m2 = m2Payload(new m2Packets.SSLRequest(m2Client.SSL | m2Client.PROTOCOL_41, 33).toPacket());
    expect(isSslRequest(m2)).toBe(true);
    expect(decodeSslRequest(m2).characterSet).toBe(33);
  });

  it('property: random bytes throw only ProtocolError', () => expectOnlyProtocolErrors(decodeSslRequest));
});

describe('negotiate', () => {
  it('intersects, keeping MariaDB extended bits only when both cleared CLIENT_MYSQL', () => {
    const server = { capabilities: 0xfffffffe, mariadbCapabilities: 0x1f };
    expect(negotiate(server, { capabilities: Capability.Protocol41 | Capability.Ssl, mariadbCapabilities: 0x3 })).toEqual({ capabilities: Capability.Protocol41 | Capability.Ssl, mariadbCapabilities: 0x3 });
    expect(negotiate(server, { capabilities: Capability.Protocol41 | Capability.ClientMysql, mariadbCapabilities: 0x3 }).mariadbCapabilities).toBe(0);
    expect(negotiate({ capabilities: 0xffffffff, mariadbCapabilities: 0 }, { capabilities: 0x80000000, mariadbCapabilities: 0 }).capabilities).toBe(0x80000000);
  });
});
