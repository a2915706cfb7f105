import type { TargetConfig } from '../config/types.js';
import { buildConnectionUrl, connectionUrlFor, endpointsFromConfig } from './connection-url.js';

const pgTarget: TargetConfig = { name: 'app', protocol: 'postgres', host: 'db', port: 5432, database: 'app', user: 'u', tls: { mode: 'disable' }, connectTimeoutMs: 5000 };
const myTarget: TargetConfig = { ...pgTarget, name: 'shop', protocol: 'mysql', database: 'shop db' };

describe('buildConnectionUrl', () => {
  it('builds a postgres URL on the proxy listener', () => {
    expect(buildConnectionUrl({ protocol: 'postgres', user: 'sw_0123', password: 'pw', database: 'app', listen: { host: '127.0.0.1', port: 6432 } })).toBe(
      'postgresql://sw_0123:pw@127.0.0.1:6432/app',
    );
  });

  it('percent-encodes user, password and database', () => {
    const url = buildConnectionUrl({ protocol: 'postgres', user: 'a@b', password: 'p:w/d@#?%', database: 'my db', listen: { host: '127.0.0.1', port: 6432 } });
    expect(url).toBe('postgresql://a%40b:p%3Aw%2Fd%40%23%3F%25@127.0.0.1:6432/my%20db');
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe('p:w/d@#?%');
    expect(decodeURIComponent(parsed.username)).toBe('a@b');
  });

  it.each([
    ['0.0.0.0', undefined, '127.0.0.1'],
    ['::', undefined, '127.0.0.1'],
    ['::1', undefined, '[::1]'],
    ['0.0.0.0', 'proxy.example.com', 'proxy.example.com'],
    ['127.0.0.1', 'fd00::5', '[fd00::5]'],
  ])('listen host %p with publicHost %p → %p', (host, publicHost, expected) => {
    const url = buildConnectionUrl({ protocol: 'postgres', user: 'u', password: 'p', database: 'd', listen: { host, port: 6432 }, ...(publicHost && { publicHost }) });
    expect(url).toBe(`postgresql://u:p@${expected}:6432/d`);
  });

  it('asks for TLS when the proxy requires it', () => {
    expect(buildConnectionUrl({ protocol: 'postgres', user: 'u', password: 'p', database: 'd', listen: { host: '127.0.0.1', port: 6432 }, tlsRequired: true })).toBe(
      'postgresql://u:p@127.0.0.1:6432/d?sslmode=require',
    );
  });

  it('builds a mysql URL', () => {
    expect(buildConnectionUrl({ protocol: 'mysql', user: 'u', password: 'p', database: 'd', listen: { host: '127.0.0.1', port: 6033 }, tlsRequired: true })).toBe('mysql://u:p@127.0.0.1:6033/d');
  });
});

describe('connectionUrlFor', () => {
  const endpoints = endpointsFromConfig({ listen: { postgres: { host: '0.0.0.0', port: 6432 }, mysql: { host: '127.0.0.1', port: 6033 } } });
  it('picks the listener of the target protocol', () => {
    expect(connectionUrlFor(pgTarget, 'u', 'p', endpoints)).toBe('postgresql://u:p@127.0.0.1:6432/app');
    expect(connectionUrlFor(myTarget, 'u', 'p', endpoints)).toBe('mysql://u:p@127.0.0.1:6033/shop%20db');
  });
  it('refuses a target whose protocol has no listener', () => {
    expect(() => connectionUrlFor(myTarget, 'u', 'p', { postgres: { host: '127.0.0.1', port: 6432 } })).toThrow('listen.mysql is not configured');
  });
});
