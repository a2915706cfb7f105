/**
 * The server side of MySQL authentication for minted credentials: caching_sha2_password (fast path;
 * full authentication with the password in clear over TLS, or RSA-OAEP encrypted with this instance's
 * key pair), mysql_native_password, mysql_clear_password (only over TLS and only with
 * auth.cleartextOverTls), and an auth switch to caching_sha2_password for any other plugin.
 *
 * The store keeps SHA256(SHA256(pw)), so the caching_sha2 "cache" never misses: a fast-path answer
 * that does not match is what MySQL does on a cache miss, full authentication, which then fails for a
 * wrong password. Unknown users run the same steps against a fake verifier that nothing matches.
 */
import { constants, createHmac, privateDecrypt, randomBytes, type KeyObject } from 'node:crypto';
import { verifyCachingSha2Fast, verifyCleartextMysql, verifyNativePassword, type MysqlVerifiers } from '@sqlwarden/access';
import {
  CACHING_SHA2_FAST_AUTH_SUCCESS,
  CACHING_SHA2_PERFORM_FULL_AUTH,
  CachingSha2,
  encodeAuthMoreData,
  encodeAuthSwitchRequest,
  scramblePluginData,
} from '@sqlwarden/wire-mysql';

export const CACHING_SHA2_PASSWORD = 'caching_sha2_password';
export const MYSQL_NATIVE_PASSWORD = 'mysql_native_password';
export const MYSQL_CLEAR_PASSWORD = 'mysql_clear_password';

export interface RsaKeyPair {
  publicKeyPem: string;
  privateKey: KeyObject;
}

export interface ClientAuthOptions {
  verifiers: MysqlVerifiers;
  /** the client connection is TLS */
  tls: boolean;
  /** auth.cleartextOverTls: accept mysql_clear_password over TLS */
  cleartextOverTls: boolean;
  /** this instance's RSA key pair (for caching_sha2 full authentication without TLS) */
  rsaKey(): RsaKeyPair;
}

export type AuthStep =
  /** send this payload and feed the client's answer to next() */
  | { kind: 'send'; payload: Buffer }
  /** authenticated: send these payloads (if any), then the OK */
  | { kind: 'ok'; before: Buffer[] }
  | { kind: 'fail'; why: 'bad_password' | 'protocol' };

const enum State {
  Start,
  Switched,
  FullAuth,
  RsaKeySent,
  Done,
}

const FAIL: AuthStep = { kind: 'fail', why: 'bad_password' };

/** Deterministic, per-instance verifiers for a user that does not exist: same path, never matches. */
export function fakeMysqlVerifiers(user: string, key: Buffer): MysqlVerifiers {
  const h = (label: string, n: number) => createHmac('sha256', key).update(`${label}\0${user}`).digest().subarray(0, n).toString('hex');
  return { nativeSha1Sha1: h('native', 20), sha256Sha256: h('sha2', 32) };
}

function withoutNul(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b;
}

/** One client's authentication, packet by packet. */
export class ClientAuthExchange {
  private state = State.Start;
  private scramble: Buffer;

  constructor(
    private readonly opts: ClientAuthOptions,
    /** the 20-byte scramble sent in our HandshakeV10 */
    scramble: Buffer,
  ) {
    this.scramble = scramble;
  }

  /** The HandshakeResponse41's plugin (null without CLIENT_PLUGIN_AUTH) and auth response. */
  start(plugin: string | null, response: Buffer): AuthStep {
    if (this.state !== State.Start) return { kind: 'fail', why: 'protocol' };
    const p = plugin === null ? MYSQL_NATIVE_PASSWORD : plugin === '' ? CACHING_SHA2_PASSWORD : plugin;
    switch (p) {
      case MYSQL_NATIVE_PASSWORD:
        // an empty answer for another plugin than the one offered (MariaDB Connector/C --default-auth) asks for a switch to it
        if (response.length === 0 && plugin !== null) return this.switchTo(MYSQL_NATIVE_PASSWORD);
        return this.native(response);
      case CACHING_SHA2_PASSWORD:
        if (response.length === 0) return this.switchTo(CACHING_SHA2_PASSWORD);
        return this.fast(response);
      case MYSQL_CLEAR_PASSWORD:
        if (this.opts.tls && this.opts.cleartextOverTls) return this.finish(verifyCleartextMysql(withoutNul(response).toString('utf8'), this.opts.verifiers));
        return this.switchTo(CACHING_SHA2_PASSWORD);
      default:
        return this.switchTo(CACHING_SHA2_PASSWORD);
    }
  }

  /** The client's next packet of the exchange. */
  next(payload: Buffer): AuthStep {
    switch (this.state) {
      case State.Switched:
        return this.switchedTo === MYSQL_NATIVE_PASSWORD ? this.native(payload) : this.fast(payload);
      case State.FullAuth:
        if (this.opts.tls) return this.finish(verifyCleartextMysql(withoutNul(payload).toString('utf8'), this.opts.verifiers));
        if (payload.length === 1 && payload[0] === CachingSha2.RequestPublicKey) {
          this.state = State.RsaKeySent;
          return { kind: 'send', payload: encodeAuthMoreData(Buffer.from(this.opts.rsaKey().publicKeyPem, 'ascii')) };
        }
        // without TLS the password may only arrive encrypted with our key
        return this.rsa(payload);
      case State.RsaKeySent:
        return this.rsa(payload);
      default:
        return { kind: 'fail', why: 'protocol' };
    }
  }

  private switchedTo = CACHING_SHA2_PASSWORD;

  private switchTo(plugin: string): AuthStep {
    this.scramble = newScramble();
    this.state = State.Switched;
    this.switchedTo = plugin;
    return { kind: 'send', payload: encodeAuthSwitchRequest({ authPluginName: plugin, authPluginData: scramblePluginData(this.scramble) }) };
  }

  private native(response: Buffer): AuthStep {
    return this.finish(response.length > 0 && verifyNativePassword(this.scramble, response, this.opts.verifiers));
  }

  private fast(response: Buffer): AuthStep {
    if (response.length === 0) return this.finish(false);
    if (verifyCachingSha2Fast(this.scramble, response, this.opts.verifiers)) {
      this.state = State.Done;
      return { kind: 'ok', before: [CACHING_SHA2_FAST_AUTH_SUCCESS] };
    }
    this.state = State.FullAuth;
    return { kind: 'send', payload: CACHING_SHA2_PERFORM_FULL_AUTH };
  }

  private rsa(ciphertext: Buffer): AuthStep {
    let plain: Buffer;
    try {
      plain = privateDecrypt({ key: this.opts.rsaKey().privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, ciphertext);
    } catch {
      return this.finish(false);
    }
    for (let i = 0; i < plain.length; i++) plain[i] ^= this.scramble[i % this.scramble.length];
    const ok = verifyCleartextMysql(withoutNul(plain).toString('utf8'), this.opts.verifiers);
    plain.fill(0);
    return this.finish(ok);
  }

  private finish(ok: boolean): AuthStep {
    this.state = State.Done;
    return ok ? { kind: 'ok', before: [] } : FAIL;
  }
}

/** A scramble for HandshakeV10: 20 random bytes, none of them NUL (it is sent NUL-terminated). */
export function newScramble(): Buffer {
  const s = randomBytes(20);
  // a NUL would end the NUL-terminated plugin data early for some clients
  for (let i = 0; i < s.length; i++) if (s[i] === 0) s[i] = 1;
  return s;
}
