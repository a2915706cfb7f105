import { watch, type FSWatcher } from 'node:fs';
import type { Analysis, Dialect } from '@sqlwarden/sql';
import { formatPolicyIssue, loadPolicyDir, type PolicyIssue, type PolicyLoadResult } from './load-policies.js';
import type { PolicySet } from './model.js';
import { patternFingerprint } from './pattern-fingerprint.js';

export interface PolicyStoreEvents {
  /** a new policy is in force */
  onLoaded?(policy: PolicySet): void;
  /** a reload was refused; the previous policy stays in force */
  onRejected?(issues: PolicyIssue[], message: string): void;
}

/**
 * The policy directory: loaded once at start (a bad directory refuses to start), then
 * watched: a change takes effect without a restart; an invalid change is refused and the
 * previous policy stays in force.
 */
export class PolicyStore {
  private version = 0;
  private current: PolicySet | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly dir: string,
    private readonly analyze: (dialect: Dialect, sql: string) => Analysis,
    private readonly events: PolicyStoreEvents = {},
    /** whether masking.hashKey is configured (masks using `hash` are refused without it) */
    private readonly hashKeyConfigured?: boolean,
  ) {}

  get policy(): PolicySet | null {
    return this.current;
  }

  /** Loads the directory now; on success the new policy is in force. */
  reload(): PolicyLoadResult {
    const result = loadPolicyDir(this.dir, {
      version: this.version + 1,
      fingerprint: (d, sql) => patternFingerprint(d, sql, this.analyze),
      env: process.env,
      hashKeyConfigured: this.hashKeyConfigured,
    });
    if (result.ok) {
      this.version = result.policy.version;
      this.current = result.policy;
      this.events.onLoaded?.(result.policy);
    } else {
      this.events.onRejected?.(result.issues, result.issues.map(formatPolicyIssue).join('\n'));
    }
    return result;
  }

  /** Starts watching the directory (debounced); idempotent. */
  watch(debounceMs = 150): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, { persistent: false }, () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.reload();
      }, debounceMs);
      this.timer.unref();
    });
    this.watcher.on('error', () => {
      // the directory went away: keep the policy in force; a later reload reports the problem
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
  }
}
