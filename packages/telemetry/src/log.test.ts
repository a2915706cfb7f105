import { createLogger } from './log.js';

test('fields named like secrets are redacted, the masking hash key included', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  log.info('config', { hashKey: 'k'.repeat(32), password: 'p', adminToken: 't', target: 'app' });
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(rec).toMatchObject({ hashKey: '[redacted]', password: '[redacted]', adminToken: '[redacted]', target: 'app' });
  expect(lines[0]).not.toContain('kkkk');
});
