import { constants, createHash, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { CACHING_SHA2_FAST_AUTH_SUCCESS, CACHING_SHA2_PERFORM_FULL_AUTH, CACHING_SHA2_REQUEST_PUBLIC_KEY, cachingSha2Status, decodeAuthMoreData, encodeAuthMoreData } from './auth-more-data.js';
import { decodeAuthSwitchRequest, encodeAuthSwitchRequest, encodeAuthSwitchResponse, scrambleFromPluginData, scramblePluginData } from './auth-switch-request.js';
import { CachingSha2 } from './codes.js';
import { cleartextPassword, encryptPasswordRsa, scrambleCachingSha2Password, scrambleNativePassword, xorPassword } from './password-scramble.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors } from './framing.test-util.js';
import { m2Auth41, m2Packet, m2Packets, m2Payload } from './mysql2.test-util.js';

const scramble = Buffer.from('abcdefghijklmnopqrst');
const sha = (alg: string, ...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash(alg)).digest();

describe('AuthSwitchRequest', () => {
  it('encodes and decodes, at every split offset', () => {
    const payload = encodeAuthSwitchRequest({ authPluginName: 'mysql_native_password', authPluginData: scramblePluginData(scramble) });
    const d = decodeSplitEverywhere(payload, decodeAuthSwitchRequest);
    expect(d.authPluginName).toBe('mysql_native_password');
    expect(scrambleFromPluginData(d.authPluginData)).toEqual(scramble);
    expect(d.authPluginData.length).toBe(21);
  });

  it('reads the one-byte old form as mysql_old_password', () => {
    expect(decodeAuthSwitchRequest(Buffer.from([0xfe]))).toEqual({ authPluginName: 'mysql_old_password', authPluginData: Buffer.alloc(0) });
  });

  it('matches mysql2 both ways', () => {
    const theirs = m2Packets.AuthSwitchRequest.fromPacket(m2Packet(encodeAuthSwitchRequest({ authPluginName: 'caching_sha2_password', authPluginData: scramblePluginData(scramble) })));
    expect(theirs.pluginName).toBe('caching_sha2_password');
    expect(theirs.pluginData.subarray(0, 20)).toEqual(scramble);
    const ours = decodeAuthSwitchRequest(m2Payload(new m2Packets.AuthSwitchRequest({ pluginName: 'mysql_native_password', pluginData: scramble }).toPacket()));
    expect(ours.authPluginName).toBe('mysql_native_password');
    expect(scrambleFromPluginData(ours.authPluginData)).toEqual(scramble);
  });

  it('the response is the raw plugin bytes', () => {
    expect(encodeAuthSwitchResponse(new Uint8Array([1, 2, 3]))).toEqual(Buffer.from([1, 2, 3]));
  });

  it('property: random bytes throw only ProtocolError', () => {
    expectOnlyProtocolErrors(decodeAuthSwitchRequest);
    expectOnlyProtocolErrors(decodeAuthSwitchRequest, [0xfe]);
  });
});

describe('AuthMoreData', () => {
  it('wraps plugin data after 0x01; caching_sha2 status packets are constants', () => {
    const pem = Buffer.from('-----BEGIN PUBLIC KEY-----\n...');
    expect(decodeSplitEverywhere(encodeAuthMoreData(pem), decodeAuthMoreData)).toEqual(pem);
    expect(cachingSha2Status(CACHING_SHA2_FAST_AUTH_SUCCESS)).toBe(CachingSha2.FastAuthSuccess);
    expect(cachingSha2Status(CACHING_SHA2_PERFORM_FULL_AUTH)).toBe(CachingSha2.PerformFullAuthentication);
    expect(cachingSha2Status(encodeAuthMoreData(pem))).toBe(-1);
    expect(CACHING_SHA2_REQUEST_PUBLIC_KEY).toEqual(Buffer.from([2]));
    expect(decodeAuthMoreData(CACHING_SHA2_FAST_AUTH_SUCCESS)).toEqual(Buffer.from([3]));
  });

  it('property: random bytes throw only ProtocolError', () => expectOnlyProtocolErrors(decodeAuthMoreData));
});

describe('password scrambles (client side)', () => {
  it('mysql_native_password matches mysql2 and the verifier equation', () => {
    const token = scrambleNativePassword('s3cret', scramble);
    expect(token).toEqual(m2Auth41.calculateToken('s3cret', scramble.subarray(0, 8), scramble.subarray(8)));
    // server side: SHA1(token XOR SHA1(scramble + stored)) == stored, stored = SHA1(SHA1(pw))
    const stored = sha('sha1', sha('sha1', Buffer.from('s3cret')));
    const mix = sha('sha1', scramble, stored);
    const stage1 = Buffer.from(token.map((b, i) => b ^ mix[i]));
    expect(sha('sha1', stage1)).toEqual(stored);
    expect(scrambleNativePassword('', scramble).length).toBe(0);
  });

  it('caching_sha2_password satisfies the server check SHA256(token XOR SHA256(stored + scramble)) == stored', () => {
    const token = scrambleCachingSha2Password('pässword', scramble);
    expect(token.length).toBe(32);
    const stored = sha('sha256', sha('sha256', Buffer.from('pässword')));
    const mix = sha('sha256', stored, scramble);
    const stage1 = Buffer.from(token.map((b, i) => b ^ mix[i]));
    expect(sha('sha256', stage1)).toEqual(stored);
    expect(scrambleCachingSha2Password('', scramble).length).toBe(0);
  });

  it('RSA-OAEP full authentication decrypts to the password XOR the scramble', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const enc = encryptPasswordRsa('hunter2', scramble, pem);
    expect(enc.length).toBe(256);
    const dec = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, enc);
    expect(dec).toEqual(xorPassword('hunter2', scramble));
    const clear = Buffer.from(dec.map((b, i) => b ^ scramble[i % scramble.length]));
    expect(clear).toEqual(cleartextPassword('hunter2'));
    expect(clear.toString('utf8', 0, clear.length - 1)).toBe('hunter2');
    expect(m2Auth41.xorRotating(cleartextPassword('hunter2'), scramble)).toEqual(xorPassword('hunter2', scramble));
  });
});
