import { parseCommand, UsageError, type Command } from './parse-args.js';

describe('parseCommand', () => {
  it.each<[string[], Command]>([
    [[], { kind: 'help' }],
    [['--help'], { kind: 'help' }],
    [['-h'], { kind: 'help' }],
    [['help'], { kind: 'help' }],
    [['help', 'mint'], { kind: 'help', topic: 'mint' }],
    [['mint', '--help'], { kind: 'help', topic: 'mint' }],
    [['--version'], { kind: 'version' }],
    [['-v'], { kind: 'version' }],
    [['start'], { kind: 'start', config: 'sqlwarden.yaml' }],
    [['start', '-c', 'x.yaml'], { kind: 'start', config: 'x.yaml' }],
    [['start', '--config=y.yaml'], { kind: 'start', config: 'y.yaml' }],
    [
      ['mint', '-c', 'c.yaml', '--agent', 'bot', '--target', 'app'],
      { kind: 'mint', config: 'c.yaml', agent: 'bot', target: 'app', labels: {}, json: false },
    ],
    [
      ['mint', '--agent', 'bot', '--target', 'app', '--ttl', '30m', '--label', 'team=data', '--label', 'expr=a=b', '--json'],
      { kind: 'mint', config: 'sqlwarden.yaml', agent: 'bot', target: 'app', ttl: '30m', labels: { team: 'data', expr: 'a=b' }, json: true },
    ],
    [['revoke', '-c', 'c.yaml', 'sw_0123456789abcdef'], { kind: 'revoke', config: 'c.yaml', user: 'sw_0123456789abcdef' }],
    [['demo'], { kind: 'demo' }],
    [['demo', '--port', '7432'], { kind: 'demo', port: 7432 }],
  ])('%j', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each<[string[], string]>([
    [['frob'], 'unknown command "frob"'],
    [['-c', 'x.yaml'], 'expected a command before -c'],
    [['help', 'frob'], 'unknown command "frob"'],
    [['start', 'extra'], 'unexpected argument "extra"'],
    [['start', '--nope'], "Unknown option '--nope'"],
    [['start', '-c'], "Option '-c, --config <value>' argument missing"],
    [['mint', '--target', 'app'], '--agent NAME is required'],
    [['mint', '--agent', 'a'], '--target TARGET is required'],
    [['mint', '--agent', 'a', '--target', 't', '--ttl', 'soon'], '--ttl: "soon" is not a duration'],
    [['mint', '--agent', 'a', '--target', 't', '--label', 'novalue'], '--label must be key=value'],
    [['mint', '--agent', 'a', '--target', 't', '--label', '=v'], '--label must be key=value'],
    [['mint', '--agent', 'a', '--target', 't', '--label', 'k=1', '--label', 'k=2'], '--label k is given twice'],
    [['revoke'], 'USER is required'],
    [['revoke', 'a', 'b'], 'revoke takes exactly one USER'],
    [['demo', '--port', '0'], '--port must be an integer from 1 to 65535'],
    [['demo', '--port', 'abc'], '--port must be an integer from 1 to 65535'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('keeps a "__proto__" label as a plain label', () => {
    const cmd = parseCommand(['mint', '--agent', 'a', '--target', 't', '--label', '__proto__=x']);
    expect(cmd.kind === 'mint' && Object.getPrototypeOf(cmd.labels)).toBe(Object.prototype);
    expect(cmd.kind === 'mint' && Object.keys(cmd.labels)).toEqual(['__proto__']);
  });
});
