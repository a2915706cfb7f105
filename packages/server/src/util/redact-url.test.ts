import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['rediss://default:hunter2@redis:6380/1', 'rediss://default:***@redis:6380/1'],
    ['redis://:hunter2@redis', 'redis://:***@redis'],
    ['not a url hunter2', '(unparseable URL)'],
  ])('%p → %p', (raw, safe) => expect(redactUrl(raw)).toBe(safe));
});
