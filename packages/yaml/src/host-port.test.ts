import { dialableHost, formatHostPort, isLoopbackHost, parseHostPort } from './host-port.js';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:6432', { host: '127.0.0.1', port: 6432 }],
    ['0.0.0.0:1', { host: '0.0.0.0', port: 1 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['[::1]:6432', { host: '::1', port: 6432 }],
    ['[::]:6033', { host: '::', port: 6033 }],
  ])('%p', (text, hp) => {
    expect(parseHostPort(text)).toEqual(hp);
    expect(formatHostPort(hp)).toBe(text);
  });

  it.each(['6432', ':6432', 'host:', 'host:0', 'host:65536', 'host:12ab', '::1:6432', '[::1]6432', '[nope]:1'])('rejects %p', (text) => {
    expect(() => parseHostPort(text)).toThrow();
  });
});

describe('isLoopbackHost / dialableHost', () => {
  it.each([['127.0.0.1', true], ['127.9.9.9', true], ['::1', true], ['::ffff:127.0.0.1', true], ['localhost', true], ['0.0.0.0', false], ['10.0.0.1', false], ['::', false], ['example.com', false]])(
    '%p loopback: %p',
    (host, loop) => expect(isLoopbackHost(host)).toBe(loop),
  );
  it('maps wildcard binds to 127.0.0.1', () => {
    expect(dialableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(dialableHost('::')).toBe('127.0.0.1');
    expect(dialableHost('10.1.2.3')).toBe('10.1.2.3');
  });
});
