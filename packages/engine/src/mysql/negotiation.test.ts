import { Capability } from '@sqlwarden/wire-mysql';
import { advertisedCapabilities, capabilityNames, clientNegotiated, clientServerVersion, unsafeCollation, unsafeSqlModes, upstreamCapabilities, WIRE_FLAGS } from './negotiation.js';

const MARIADB_10_11 = 0xf7fe | (0x81bf << 16); // what the local MariaDB offers (lower 32 bits)

describe('capability negotiation', () => {
  it('never advertises compression, IGNORE_SPACE or optional metadata; LOCAL INFILE is offered (sqlwarden decides per statement)', () => {
    for (const up of [null, 0xffffffff, MARIADB_10_11 >>> 0]) {
      for (const tls of [false, true]) {
        const caps = advertisedCapabilities(up, tls);
        for (const f of [Capability.Compress, Capability.IgnoreSpace, Capability.OptionalResultsetMetadata, Capability.NoSchema, Capability.ZstdCompressionAlgorithm]) {
          expect(caps & f).toBe(0);
        }
        expect((caps & Capability.Ssl) !== 0).toBe(tls);
        expect(caps & Capability.LocalFiles).toBe(Capability.LocalFiles);
        expect(caps & Capability.DeprecateEof).toBe(Capability.DeprecateEof);
        expect(caps & Capability.LongPassword).toBe(Capability.LongPassword);
      }
    }
  });

  it('offers session tracking and query attributes only when the upstream does', () => {
    expect(advertisedCapabilities(null, false) & Capability.SessionTrack).toBe(0);
    expect(advertisedCapabilities(Capability.SessionTrack | Capability.Protocol41, false) & Capability.SessionTrack).toBe(Capability.SessionTrack);
    expect(advertisedCapabilities(Capability.Protocol41, false) & Capability.QueryAttributes).toBe(0);
    // login flags are sqlwarden's own, whatever the upstream offers
    expect(advertisedCapabilities(Capability.Protocol41, false) & Capability.PluginAuth).toBe(Capability.PluginAuth);
  });

  it('passes the client wire flags upstream and fails naming a flag the upstream lacks', () => {
    const client = clientNegotiated(0xffffffff, advertisedCapabilities(0xffffffff, false));
    const ok = upstreamCapabilities(client, 0xffffffff);
    expect(ok.ok && ok.capabilities & WIRE_FLAGS).toBe(client & WIRE_FLAGS);
    const noEof = upstreamCapabilities(client, (0xffffffff & ~Capability.DeprecateEof) >>> 0);
    expect(noEof).toEqual({ ok: false, missing: ['CLIENT_DEPRECATE_EOF'] });
    const up = upstreamCapabilities(Capability.Protocol41 | Capability.Ssl | Capability.LocalFiles, 0xffffffff);
    expect(up.ok && up.capabilities & (Capability.Ssl | Capability.LocalFiles | Capability.Compress)).toBe(0);
    // LOCAL INFILE only for a session that asks for it (a principal the policy allows), and only if the client negotiated it
    const allowed = upstreamCapabilities(Capability.Protocol41 | Capability.LocalFiles, 0xffffffff, true);
    expect(allowed.ok && allowed.capabilities & Capability.LocalFiles).toBe(Capability.LocalFiles);
    const notAsked = upstreamCapabilities(Capability.Protocol41, 0xffffffff, true);
    expect(notAsked.ok && notAsked.capabilities & Capability.LocalFiles).toBe(0);
  });

  it('names flags', () => {
    expect(capabilityNames(Capability.DeprecateEof | Capability.MultiResults)).toEqual(['CLIENT_MULTI_RESULTS', 'CLIENT_DEPRECATE_EOF']);
  });
});

describe('character sets and sql modes', () => {
  it.each([
    [28, 'gbk'],
    [1, 'big5'],
    [13, 'sjis'],
    [95, 'cp932'],
    [248, 'gb18030'],
  ])('refuses collation %i (%s)', (id, name) => {
    expect(unsafeCollation(id)).toBe(name);
  });
  it.each([33, 45, 46, 224, 255, 8, 63])('accepts collation %i', (id) => {
    expect(unsafeCollation(id)).toBeNull();
  });
  it('finds unsafe sql_mode items', () => {
    expect(unsafeSqlModes('STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION')).toEqual([]);
    expect(unsafeSqlModes('')).toEqual([]);
    expect(unsafeSqlModes('REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI')).toEqual(['ANSI_QUOTES', 'PIPES_AS_CONCAT', 'IGNORE_SPACE', 'ANSI']);
    expect(unsafeSqlModes('no_backslash_escapes')).toEqual(['NO_BACKSLASH_ESCAPES']);
  });
  it('shows the upstream version with a suffix', () => {
    expect(clientServerVersion('5.5.5-10.11.19-MariaDB-0+deb12u1')).toBe('5.5.5-10.11.19-MariaDB-0+deb12u1-sqlwarden');
    expect(clientServerVersion(null)).toBe('8.0.0-sqlwarden');
  });
});
